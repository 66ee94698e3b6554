"""Health checks for load balancers and orchestrators: no authentication, no data.

- /healthz: the process is alive and answers.
- /readyz: it can serve: the database answers, every migration is applied, and Redis answers when the site uses it
  (REDIS_URL). Otherwise 503, naming what is not ready.

They are answered before any other middleware (host checks, HTTPS redirects, sessions), so a probe that calls the
process by its address over plain HTTP gets the truth rather than a 400 or a redirect.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

REDIS_TIMEOUT = 2.0  # seconds: a probe must not hang on a broker that does not answer
_migrated = False  # once every migration is applied, a process need not look again (new code starts new processes)


def readiness() -> dict[str, str]:
    """{check: "ok" or why not} for the database, the migrations and Redis."""
    global _migrated
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as exc:
        checks["database"] = f"down: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    if checks["database"] == "ok" and not _migrated:
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            pending, checks["migrations"] = None, f"unknown: {type(exc).__name__}"
        if pending is not None:
            _migrated = not pending
            checks["migrations"] = "ok" if _migrated else f"{len(pending)} not applied"
    elif _migrated:
        checks["migrations"] = "ok"
    url = getattr(settings, "REDIS_URL", None)
    if url:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT).ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
    return checks


class HealthCheckMiddleware:
    """Answers /healthz and /readyz itself (put first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return JsonResponse({"status": "alive"})
        if request.path == "/readyz":
            checks = readiness()
            ready = all(value == "ok" for value in checks.values())
            return JsonResponse(
                {"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503
            )
        return self.get_response(request)
