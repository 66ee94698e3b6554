"""Settings shared by every environment; everything secret or site-specific comes from the environment."""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_choice, env_database, env_float, env_int, env_list, env_redis, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", required=True)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "core.apps.RevOpsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_tables2",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "core.apps.CoreConfig",
    "accounts",
    "territories",
    "segmentation",
    "handoffs",
    "insights",
    "integrations",
    "demo",
]

MIDDLEWARE = [
    "core.health.HealthCheckMiddleware",  # first: probes get /healthz and /readyz whatever the host or scheme
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, compressed and cached forever by their hashed names
    "core.logs.RequestIdMiddleware",  # every log line of a request carries its id; one line per request
    "core.csp.ContentSecurityPolicyMiddleware",  # outermost but one: even error pages get the policy
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.EndInactiveSessionMiddleware",  # a deactivated user is logged out on their next request
    "simple_history.middleware.HistoryRequestMiddleware",  # the audit trail records who made each change
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a login refused by axes into the lockout page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# SQLite when nothing is configured; PostgreSQL (psycopg 3) through DATABASE_URL. A connection pool (DB_POOL), health
# checks of kept connections, and PgBouncer's transaction mode are opt-in: see env_database and the README.
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Single sign-on (OpenID Connect, mozilla-django-oidc; core/sso.py), on when OIDC_RP_CLIENT_ID is set. The IdP's
# endpoints are given one by one, or found once at start-up from OIDC_OP_ISSUER's discovery document. Users are
# created at their first sign-in; their roles come from their IdP groups (the OIDC_GROUPS_CLAIM claim) as the admins
# map them on the "Single sign-on" page. PASSWORD_LOGIN=false leaves single sign-on as the only way in.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_choice("OIDC_RP_SIGN_ALGO", "RS256", ["rs256", "es256", "hs256"]).upper()
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile groups")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1)  # seconds for each call to the IdP
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
SSO_ENABLED = OIDC_RP_CLIENT_ID is not None
if SSO_ENABLED:
    from .sso import discover_endpoints

    (OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT, OIDC_OP_JWKS_ENDPOINT) = (
        discover_endpoints(
            issuer=OIDC_OP_ISSUER,
            secret=OIDC_RP_CLIENT_SECRET,
            sign_algo=OIDC_RP_SIGN_ALGO,
            authorization=OIDC_OP_AUTHORIZATION_ENDPOINT,
            token=OIDC_OP_TOKEN_ENDPOINT,
            userinfo=OIDC_OP_USER_ENDPOINT,
            jwks=OIDC_OP_JWKS_ENDPOINT,
            timeout=OIDC_TIMEOUT,
        )
    )
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", True)
if not PASSWORD_LOGIN and not SSO_ENABLED:
    raise ImproperlyConfigured("PASSWORD_LOGIN=false needs single sign-on: set OIDC_RP_CLIENT_ID and the IdP's.")

# Login rate limiting (django-axes): the axes backend refuses a username+IP after too many failures; it stays first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    *(["django.contrib.auth.backends.ModelBackend"] if PASSWORD_LOGIN else []),
    *(["core.sso.SsoBackend"] if SSO_ENABLED else []),
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every command's output
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a reverse proxy every request comes from the proxy's address: the client's is read from X-Forwarded-For,
# trusting as many proxies as TRUSTED_PROXY_COUNT says (0: no proxy, REMOTE_ADDR is the client). A client cannot then
# lock everyone out by failing logins from behind the proxy, nor pick its address by forging the header. The API's
# throttles read the same address (core/clientip.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# Uploaded CSV files can be large; they are streamed to disk, not held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 200, minimum=1)
# An absence longer than this many days is a departure: the rep's accounts and open handoffs may be handed over.
DEPARTURE_ABSENCE_DAYS = env_int("DEPARTURE_ABSENCE_DAYS", 14, minimum=1)
# An assignment run writes its chunks of moves on this many database connections while it plans the next ones.
ASSIGNMENT_WRITERS = env_int("ASSIGNMENT_WRITERS", 2, minimum=1)
# Lookalike scores compare every account with the accounts won in this many days up to today (segmentation/lookalike).
LOOKALIKE_PERIOD_DAYS = env_int("LOOKALIKE_PERIOD_DAYS", 365, minimum=1)

# Webhooks (integrations/webhooks): each event is POSTed to the endpoints that want it, signed; a failed attempt is
# retried after WEBHOOK_RETRY_BASE_SECONDS * WEBHOOK_RETRY_FACTOR ** (attempt - 1) seconds (at most
# WEBHOOK_RETRY_MAX_SECONDS, plus up to 10% jitter), WEBHOOK_MAX_ATTEMPTS attempts in all; an endpoint that fails
# WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row, over WEBHOOK_DISABLE_AFTER_MINUTES at least, is switched off and
# the admins are told. Endpoints on private, loopback, link-local, multicast or reserved addresses are refused unless
# WEBHOOKS_ALLOW_PRIVATE_URLS.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=120.0)
WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 30.0, minimum=0.0, maximum=86400.0)
WEBHOOK_RETRY_FACTOR = env_float("WEBHOOK_RETRY_FACTOR", 2.0, minimum=1.0, maximum=10.0)
WEBHOOK_RETRY_MAX_SECONDS = env_float("WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600.0, minimum=0.0, maximum=7 * 86400.0)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 20, minimum=1)
WEBHOOK_DISABLE_AFTER_MINUTES = env_int("WEBHOOK_DISABLE_AFTER_MINUTES", 60, minimum=0)
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 8, minimum=1)
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 200, minimum=1)
WEBHOOKS_ALLOW_PRIVATE_URLS = env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", False)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "revops@localhost")

# Celery: Redis as the broker when REDIS_URL is set; otherwise tasks run eagerly in-process.
REDIS_URL = env_redis("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3300, minimum=1)
CELERY_TIMEZONE = "UTC"
# Redis hands an unacknowledged task (acks late) to another worker after the visibility timeout: it must outlast the
# longest task, or a long rescore slice would run twice at once. Checked when the worker starts (config/celery_app.py).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 600, minimum=1)
}
# One beat runs the schedule however many are started: a lock in Redis, taken over when its holder is gone for this
# many seconds (core/beat.py).
CELERY_BEAT_SCHEDULER = "core.beat:SingleBeatScheduler"
BEAT_LOCK_SECONDS = env_int("BEAT_LOCK_SECONDS", 60, minimum=3)
# Logs go through Django's LOGGING (so LOG_FORMAT=json applies to workers too, with the task's id on every line).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A queued or running job silent this long is stopped: past the task time limit, no live worker can still be on it.
JOB_STUCK_MINUTES = env_int("JOB_STUCK_MINUTES", CELERY_TASK_TIME_LIMIT // 60 + 10, minimum=1)
# A full rescore on PostgreSQL runs in this many slices of accounts, which the workers take one at a time: a slice
# reads only its own accounts' signals, so more slices than workers keep every worker busy to the end.
RESCORE_SLICES = env_int("RESCORE_SLICES", 8, minimum=1)
# Intent topics (accounts/topics.py): per account and topic, the signals of the last TOPIC_WINDOW_DAYS days against
# the account's own baseline, the counts of the TOPIC_BASELINE_WINDOWS windows of as many days before them:
# z = (recent - mean) / max(std, TOPIC_STD_FLOOR). A topic surges when z >= TOPIC_SURGE_Z with at least
# TOPIC_MIN_RECENT signals in the recent window. Refreshed nightly (topic-surges below) and on demand by admins.
TOPIC_WINDOW_DAYS = env_int("TOPIC_WINDOW_DAYS", 7, minimum=1)
TOPIC_BASELINE_WINDOWS = env_int("TOPIC_BASELINE_WINDOWS", 8, minimum=1)
TOPIC_SURGE_Z = env_float("TOPIC_SURGE_Z", 2.0, minimum=0.0, maximum=100.0)
TOPIC_STD_FLOOR = env_float("TOPIC_STD_FLOOR", 1.0, minimum=0.01, maximum=1000.0)
TOPIC_MIN_RECENT = env_int("TOPIC_MIN_RECENT", 5, minimum=1)
# PostgreSQL's work_mem for the refresh's transaction, so that grouping millions of signals hashes in memory.
TOPIC_WORK_MEM_MB = env_int("TOPIC_WORK_MEM_MB", 64, minimum=4)
CELERY_BEAT_SCHEDULE: dict = {
    # Intent topics: every account's topic surges, before the daily rescore reads them (accounts whose surging
    # topics change are queued for rescoring at once).
    "topic-surges": {"task": "accounts.tasks.topic_surges_task", "schedule": crontab(hour=1, minute=30)},
    # Signals decay: everyone is rescored once a day.
    "rescore-daily": {"task": "segmentation.tasks.rescore_daily_task", "schedule": crontab(hour=2, minute=0)},
    # Every minute: overdue handoffs are breached; open MQAs without a handoff and the owner-change queue are healed.
    "sla-sweep": {"task": "handoffs.tasks.sla_sweep_task", "schedule": crontab(minute="*")},
    # The queues of accounts/changes.py and of territories' capacity are drained as soon as a change commits; every
    # minute as well, so a wake-up lost with a worker or the broker only delays the work (core/queues.py).
    "rescore-queue": {"task": "accounts.changes.rescore_queued", "schedule": crontab(minute="*")},
    "route-queue": {"task": "accounts.changes.route_queued", "schedule": crontab(minute="*")},
    "capacity-queue": {"task": "territories.capacity_queued", "schedule": crontab(minute="*")},
    # The KPIs of the day, once scores are fresh, so the dashboard can chart trends.
    "kpi-snapshot": {"task": "insights.tasks.kpi_snapshot_task", "schedule": crontab(hour=4, minute=15)},
    # Jobs stopped with their worker are resumed (a rescore) or failed with the reason (core/jobs.py).
    "jobs-heal": {"task": "core.jobs_heal", "schedule": crontab(minute="*/5")},
    # Spend potential reads the scores: after the daily rescore (it waits for one still running).
    "potential-daily": {"task": "insights.tasks.potential_refresh_task", "schedule": crontab(hour=3, minute=30)},
    # Lookalike scores against the accounts won lately: nightly, before the daily rescore reads them.
    "lookalikes-nightly": {"task": "segmentation.tasks.lookalikes_nightly_task", "schedule": crontab(hour=1, minute=0)},
    # Won deals changed: the lookalike queue is drained as soon as a change commits, and every five minutes as well.
    "lookalike-queue": {"task": "accounts.changes.lookalikes_queued", "schedule": crontab(minute="*/5")},
    # CRM sync (integrations/crm): every enabled connection pulls what changed and pushes scores back.
    "crm-sync": {"task": "integrations.crm.sync_all", "schedule": crontab(minute="*/15")},
    # Events are handed to webhooks and chat alerts as soon as they commit; every minute as well (lost wake-ups,
    # retries now due, chat digests whose quiet ended).
    "events-recorded": {"task": "core.events.recorded", "schedule": crontab(minute="*")},
}

# CRM credentials are encrypted at rest (Fernet) with this key: `python -c "from cryptography.fernet import Fernet;
# print(Fernet.generate_key().decode())"`. Without it, a key derived from SECRET_KEY serves development and tests
# only (DEBUG or the test settings); in production no credentials are saved until it is set.
INTEGRATIONS_ENCRYPTION_KEY = env_str("INTEGRATIONS_ENCRYPTION_KEY", "")
INTEGRATIONS_DEV_KEY_ALLOWED = DEBUG
# A CRM's 429 answers: wait its Retry-After (at most this many seconds) and try again, this many times at most.
CRM_RETRY_AFTER_MAX_SECONDS = env_float("CRM_RETRY_AFTER_MAX_SECONDS", 60.0, minimum=0.0, maximum=600.0)
CRM_RATE_LIMIT_RETRIES = env_int("CRM_RATE_LIMIT_RETRIES", 5, minimum=0)


# Chat alerts (integrations/alerts/): Slack and Microsoft Teams incoming webhooks. Links in messages are absolute:
# SITE_URL is the address people open the product at. A channel that posted keeps quiet ALERTS_COOLDOWN_SECONDS and
# then posts what came meanwhile as one digest. A post is tried again ALERTS_RETRIES times on 429/5xx/no answer,
# waiting what Retry-After asks when it is at most ALERTS_RETRY_WAIT_MAX seconds (a longer wait is left to the next
# drain). Webhooks must be https on a public address (ALERTS_ALLOW_HTTP / ALERTS_ALLOW_PRIVATE_URLS: for tests).
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
ALERTS_COOLDOWN_SECONDS = env_int("ALERTS_COOLDOWN_SECONDS", 300, minimum=0)
ALERTS_RETRIES = env_int("ALERTS_RETRIES", 3, minimum=0)
ALERTS_RETRY_WAIT_MAX = env_int("ALERTS_RETRY_WAIT_MAX", 30, minimum=0)
ALERTS_TIMEOUT_SECONDS = env_int("ALERTS_TIMEOUT_SECONDS", 10, minimum=1)
ALERTS_ALLOW_HTTP = env_bool("ALERTS_ALLOW_HTTP", False)
ALERTS_ALLOW_PRIVATE_URLS = env_bool("ALERTS_ALLOW_PRIVATE_URLS", False)

# API tokens: a login through POST /api/v1/auth/token/ makes one valid API_TOKEN_DAYS days; users make and revoke
# their own on the "API tokens" page, at most API_TOKENS_PER_USER active at a time.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1)
API_TOKENS_PER_USER = env_int("API_TOKENS_PER_USER", 20, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.tokens.TokenAuthentication",  # hashed keys that expire and can be revoked (core/tokens.py)
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.HasRole"],
    # Every answer is JSON, as the schema says (no browsable HTML for an `Accept: text/html` or `?format=api`).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.apis.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Per user (or token), and per client address for anonymous calls; counted in CACHES (Redis when REDIS_URL is
    # set, so every web process shares the counts). Over the rate: 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.AnonThrottle", "core.throttles.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/minute"),
        "user": env_str("API_THROTTLE_USER", "1200/minute"),
    },
}

# The cache holds API throttle counts: Redis when REDIS_URL is set (shared by every web process), else this process.
# Django's Redis cache, keeping its client between calls (core/cache.py).
CACHES = {
    "default": (
        {"BACKEND": "core.cache.KeptClientRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "revops"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Sessions are read from that cache and written through to the database (a page's session costs a Redis GET rather
# than a query) where the cache is shared by every web process; otherwise from the database alone, since a cache of
# one process would keep serving a session that another process ended (a logout, a deactivated user).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# How long whole-scope counts (accounts per territory on the home and territories pages, the tier tiles) are shared
# before they are counted again (core/summaries.py); 0 counts on every page load.
COUNTS_CACHE_SECONDS = env_int("COUNTS_CACHE_SECONDS", 60, minimum=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Account segmentation and scoring API",
    "DESCRIPTION": "Accounts, signals, scores, tiers, territories and handoffs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["core.permissions.HasRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "core.models.Job.Status",
        "MembershipRoleEnum": "territories.models.Membership.Role",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.document_errors",
    ],
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# LOG_FORMAT=json: one JSON object per line, with the request's id (X-Request-ID) or the Celery task's id and name.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ["text", "json"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.logs.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
if LOG_FORMAT == "json":
    import logging

    # Python's warnings (a missing STATIC_ROOT, a deprecation) go through the same handler, as JSON, not as raw
    # lines on stderr that a log collector cannot parse.
    logging.captureWarnings(True)

# Error reporting: sentry-sdk with its Django and Celery integrations when SENTRY_DSN is set; not even imported
# otherwise.
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from core.errors import sentry_init

    sentry_init(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0),
    )
