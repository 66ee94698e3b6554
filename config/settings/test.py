"""Tests: the same services as configured (PostgreSQL/Redis in CI), eager tasks unless a test starts a worker."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")

from .base import *  # noqa: E402,F403
from .env import env_str  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
INTEGRATIONS_DEV_KEY_ALLOWED = True  # a key derived from SECRET_KEY encrypts the test CRM credentials

# The API's throttles count in CACHES: in Redis (CI) every test process (pytest-xdist) would share one count per user
# and per 127.0.0.1, and the suite (the API fuzzing, the token logins) could answer 429 as it grows. Each test process
# counts alone, under its own key prefix, at rates no test reaches unless it lowers them (tests/core/test_throttles.py
# does, with override_settings: core/throttles.py reads the rates at request time).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "100000/minute"),
        "user": env_str("API_THROTTLE_USER", "100000/minute"),
    },
}
CACHES = {
    "default": {
        **CACHES["default"],  # noqa: F405
        "KEY_PREFIX": f"revops-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}",
    }
}
# Sessions in the database alone, whether or not REDIS_URL is set: the pages' query budgets (tests/accounts, ...)
# count the session's read, and come out the same on every machine. tests/core/test_sessions.py runs the cached
# sessions that production uses with Redis.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Tests change data and read the pages at once: counts are made on every load (tests/core/test_summaries.py turns
# the sharing on).
COUNTS_CACHE_SECONDS = 0
# No collectstatic before tests: whitenoise looks files up per request instead of listing STATIC_ROOT at start-up.
WHITENOISE_AUTOREFRESH = True
# Webhook tests deliver to receivers they start on 127.0.0.1 (tests/integrations refuse private URLs on purpose).
WEBHOOKS_ALLOW_PRIVATE_URLS = True
