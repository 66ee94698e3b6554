import os

from celery import Celery, signals

# Workers and beat run the production settings unless told otherwise (`make demo` says local).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("revops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_unsafe_task_settings(**kwargs) -> None:
    """A worker or beat does not start with task settings that would run a task twice or heal a live job (for
    example a Redis visibility timeout within the task time limit): core/checks.py says which and why."""
    from core.checks import task_time_limits

    problems = task_time_limits()
    if problems:  # Celery logs and ignores an exception raised by a signal handler; SystemExit stops the process
        raise SystemExit("Refusing to start: " + " ".join(f"{p.msg} {p.hint or ''}".strip() for p in problems))
