"""Settings read the environment and fail loudly, naming the variable, on a bad value."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


def load(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    clean.update({"DJANGO_SETTINGS_MODULE": settings_module, **env})
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=clean, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("module", "env", "message"),
    [
        ("config.settings.local", {"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ("config.settings.local", {"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL='mysql://db/x' is not supported"),
        ("config.settings.local", {"DATABASE_URL": "postgres://host:5432/"}, "names no database"),
        ("config.settings.local", {"REDIS_URL": "http://cache"}, "REDIS_URL='http://cache' is not a redis://"),
        ("config.settings.local", {"DB_CONN_MAX_AGE": "soon"}, "DB_CONN_MAX_AGE='soon' is not a whole number"),
        (
            "config.settings.production",
            {"ALLOWED_HOSTS": "a.example"},
            "The environment variable SECRET_KEY must be set",
        ),
        (
            "config.settings.production",
            {"SECRET_KEY": "short", "ALLOWED_HOSTS": "a.example"},
            "SECRET_KEY must be a random value",
        ),
        ("config.settings.production", {"SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
        ("config.settings.local", {"DB_POOL": "true"}, "DB_POOL needs PostgreSQL"),
        (
            "config.settings.local",
            {"DATABASE_URL": "postgres://u@h:5432/db", "DB_POOL": "true", "DB_CONN_MAX_AGE": "60"},
            "DB_POOL and DB_CONN_MAX_AGE exclude each other",
        ),
        (
            "config.settings.local",
            {
                "DATABASE_URL": "postgres://u@h:5432/db",
                "DB_POOL": "yes",
                "DB_POOL_MIN_SIZE": "8",
                "DB_POOL_MAX_SIZE": "4",
            },
            "DB_POOL_MAX_SIZE=4 must be at least DB_POOL_MIN_SIZE=8",
        ),
        ("config.settings.local", {"DB_PGBOUNCER": "true"}, "DB_PGBOUNCER needs PostgreSQL"),
        ("config.settings.local", {"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' is not one of: text, json"),
        ("config.settings.local", {"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT=-1 must be at least 0"),
        (
            "config.settings.local",
            {"SENTRY_DSN": "http://key@127.0.0.1:9/1", "SENTRY_TRACES_SAMPLE_RATE": "lots"},
            "SENTRY_TRACES_SAMPLE_RATE='lots' is not a number",
        ),
    ],
)
def test_bad_values_stop_the_app_with_a_message(module, env, message):
    done = load(module, **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr


def test_defaults_are_sqlite_and_eager_and_services_come_from_urls():
    done = load("config.settings.local")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.db.backends.sqlite3", "True"]
    done = load("config.settings.local", DATABASE_URL="postgres://u@h:5432/db", REDIS_URL="redis://127.0.0.1:6379/0")
    assert done.stdout.split() == ["django.db.backends.postgresql", "False"]


def database_options(**env: str) -> dict:
    code = "import json; from django.conf import settings; d = settings.DATABASES['default']; print(json.dumps(d, default=str))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL="postgres://u@h:5432/db", **env)
    done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=clean, capture_output=True,
                          text=True, check=True)  # fmt: skip
    import json

    return json.loads(done.stdout)


def test_sessions_are_cached_in_redis_when_every_process_shares_it_and_in_the_database_alone_otherwise():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SESSION_ENGINE)"
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}

    def engine(**env: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, capture_output=True, text=True,
                              env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.local", **env}, check=True)  # fmt: skip
        return done.stdout.strip()

    assert engine() == "django.contrib.sessions.backends.db"
    assert engine(REDIS_URL="redis://127.0.0.1:6379/0") == "django.contrib.sessions.backends.cached_db"


def test_database_connections_are_health_checked_and_a_pool_or_pgbouncer_is_opt_in():
    plain = database_options()
    assert plain["CONN_HEALTH_CHECKS"] is True and plain["CONN_MAX_AGE"] == 0
    assert "pool" not in plain.get("OPTIONS", {}) and not plain.get("DISABLE_SERVER_SIDE_CURSORS")
    pooled = database_options(DB_POOL="true", DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="5")
    assert pooled["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 5, "timeout": 10}
    bouncer = database_options(DB_PGBOUNCER="true", DB_CONN_MAX_AGE="60")
    assert bouncer["DISABLE_SERVER_SIDE_CURSORS"] is True and bouncer["CONN_MAX_AGE"] == 60


def test_good_production_settings_load():
    done = load("config.settings.production", SECRET_KEY="x" * 30 + "y" * 30, ALLOWED_HOSTS="scoring.example.com")
    assert done.returncode == 0, done.stderr


def test_production_settings_pass_the_deployment_checks():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE belongs to the test process, not to a deployment.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k8#Tq" * 12,
        ALLOWED_HOSTS="scoring.example.com",
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ("wsgi", "import config.wsgi"),
        ("asgi", "import config.asgi"),
        ("celery", "from config.celery_app import app; app.loader.import_default_modules()"),
    ],
)
def test_the_servers_default_to_the_production_settings(entry, code):
    """A forgotten DJANGO_SETTINGS_MODULE never serves debug pages with a public key: the web and task entry
    points load the production settings, which refuse to start without SECRET_KEY and ALLOWED_HOSTS."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS"}}
    refused = subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr, (entry, refused.stderr[-500:])
    env.update(SECRET_KEY="x" * 30 + "y" * 30, ALLOWED_HOSTS="scoring.example.com")
    check = code + "; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.DEBUG)"
    served = subprocess.run([sys.executable, "-c", check], cwd=settings.BASE_DIR, env=env, capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert served.returncode == 0, served.stderr[-800:]
    assert served.stdout.split()[-2:] == ["config.settings.production", "False"]


def test_manage_py_keeps_the_local_settings_for_development():
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DATABASE_URL"}}
    done = subprocess.run([sys.executable, "manage.py", "diffsettings", "--all"], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and "SETTINGS_MODULE = 'config.settings.local'" in done.stdout
