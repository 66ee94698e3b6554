"""Start-up checks of the task settings (Django system checks; Celery workers run them when they start)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def task_time_limits(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problems = []
    limit = settings.CELERY_TASK_TIME_LIMIT
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    visibility = options.get("visibility_timeout", 3600)  # Redis's default
    if str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://")) and visibility <= limit:
        problems.append(
            checks.Error(
                f"The broker's visibility timeout ({visibility} s) does not exceed the task time limit ({limit} s): "
                "Redis would hand a task still running to a second worker.",
                hint="Set CELERY_VISIBILITY_TIMEOUT above CELERY_TASK_TIME_LIMIT (or lower the limit).",
                id="core.E001",
            )
        )
    if limit >= settings.JOB_STUCK_MINUTES * 60:
        problems.append(
            checks.Error(
                f"JOB_STUCK_MINUTES ({settings.JOB_STUCK_MINUTES}) is within the task time limit ({limit} s): the "
                "job healer would take jobs still running for stopped.",
                hint="Set JOB_STUCK_MINUTES above CELERY_TASK_TIME_LIMIT / 60.",
                id="core.E002",
            )
        )
    if limit <= settings.CELERY_TASK_SOFT_TIME_LIMIT:
        problems.append(
            checks.Error(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({settings.CELERY_TASK_SOFT_TIME_LIMIT} s) must be below "
                f"CELERY_TASK_TIME_LIMIT ({limit} s).",
                id="core.E003",
            )
        )
    return problems
