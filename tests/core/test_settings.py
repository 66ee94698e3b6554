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
