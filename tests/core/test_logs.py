"""Logs: a request id in and out of every request, on every line it writes; a task's id and name on every line a
Celery task writes; with LOG_FORMAT=json, one JSON object per line.

The tests log through the production handler's formatter and filter (core.logs.JsonFormatter and ContextFilter,
as config/settings/base.py's LOGGING builds them); a subprocess proves LOG_FORMAT=json switches the real config.
"""

import io
import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from config.celery_app import app as celery_app
from config.settings import base as base_settings
from core.logs import REQUEST_ID_SHAPE, ContextFilter, JsonFormatter

log = logging.getLogger("tests.logs")
NEW_ID = re.compile(r"^[0-9a-f]{32}$")


# A URLconf of this module's own (`@pytest.mark.urls(__name__)`): a view that logs, and one that fails.
def logging_view(request):
    log.info("inside the view", extra={"account": 42})
    return HttpResponse("ok")


def failing_view(request):
    raise ValueError("the view broke")


urlpatterns = [path("log-me/", logging_view), path("fail/", failing_view)]


@celery_app.task(name="tests.logs.logging_task")  # the site's app: `current_app` may be another test's
def logging_task(value):
    log.info("inside the task %s", value)
    return value


@pytest.fixture
def json_lines():
    """The root logger at INFO, through a handler built as LOG_FORMAT=json builds it; yields a function that
    returns every line written so far, each parsed as one JSON object."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines() -> list[dict]:
        text = stream.getvalue()
        assert text.endswith("\n")
        return [json.loads(line) for line in text.splitlines()]  # each line alone is valid JSON

    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "revops.requests"]


# --- Requests ------------------------------------------------------------------------------------------------------


def test_a_request_writes_one_access_line_with_its_id(world, json_lines):
    client = Client()
    client.force_login(world.north_rep)
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 200
    rid = response["X-Request-ID"]
    assert NEW_ID.match(rid)

    [line] = access_lines(json_lines())
    assert line["request_id"] == rid
    assert line["level"] == "INFO"
    assert line["method"] == "GET" and line["path"] == "/api/v1/accounts/" and line["status"] == 200
    assert line["user_id"] == world.north_rep.pk
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["message"].startswith("GET /api/v1/accounts/ 200 ")
    assert line["task_id"] is None and line["task_name"] is None
    assert line["time"].endswith("+00:00")


def test_each_request_gets_its_own_id(db, json_lines):
    ids = {Client().get("/login/")["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert {line["request_id"] for line in access_lines(json_lines())} == ids


@pytest.mark.parametrize("given", ["abc-123", "7f3e0a9c4b2d4e8f9a1b2c3d4e5f6a7b", "lb:req.42_x", "a" * 128])
def test_a_well_formed_request_id_is_kept(db, json_lines, given):
    response = Client().get("/login/", HTTP_X_REQUEST_ID=given)
    assert response["X-Request-ID"] == given
    assert [line["request_id"] for line in access_lines(json_lines())] == [given]


@pytest.mark.parametrize(
    "given",
    [
        "has spaces",
        "a" * 500,
        "a" * 129,
        "abc\nINFO revops.requests forged line",
        'x"}{"level": "CRITICAL',
        "id;rm -rf",
        "",
    ],
)
def test_a_malformed_request_id_is_replaced(db, json_lines, given):
    response = Client().get("/login/", HTTP_X_REQUEST_ID=given)
    rid = response["X-Request-ID"]
    assert rid != given and NEW_ID.match(rid)
    lines = json_lines()
    assert [line["request_id"] for line in access_lines(lines)] == [rid]
    assert all(line["level"] != "CRITICAL" for line in lines)
    assert not REQUEST_ID_SHAPE.match(given)


@pytest.mark.urls(__name__)
def test_a_line_written_inside_the_view_carries_the_request_id(db, json_lines):
    response = Client().get("/log-me/", HTTP_X_REQUEST_ID="trace-in-view-1")
    assert response.status_code == 200
    lines = json_lines()
    [inside] = [line for line in lines if line["logger"] == "tests.logs"]
    assert inside["message"] == "inside the view"
    assert inside["request_id"] == "trace-in-view-1"
    assert inside["account"] == 42  # `extra` goes into the object
    assert [line["request_id"] for line in access_lines(lines)] == ["trace-in-view-1"]

    # Once the request is answered, later lines carry no request id.
    log.info("after the request")
    assert json_lines()[-1]["request_id"] is None


@pytest.mark.urls(__name__)
def test_an_exception_is_serialized_on_its_line(db, json_lines):
    response = Client(raise_request_exception=False).get("/fail/", HTTP_X_REQUEST_ID="failing-request")
    assert response.status_code == 500
    lines = json_lines()
    [error] = [line for line in lines if line["logger"] == "django.request"]
    assert error["level"] == "ERROR" and error["request_id"] == "failing-request"
    assert "Traceback (most recent call last)" in error["exception"]
    assert error["exception"].rstrip().endswith("ValueError: the view broke")
    [access] = access_lines(lines)
    assert access["status"] == 500 and access["request_id"] == "failing-request"

    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("handled %s", "here")
    last = json_lines()[-1]
    assert last["message"] == "handled here" and "KeyError: 'missing'" in last["exception"]


# --- Celery tasks ---------------------------------------------------------------------------------------------------


def test_a_line_written_inside_a_task_carries_its_id_and_name(json_lines):
    assert settings.CELERY_TASK_ALWAYS_EAGER  # eager: current_task is set as on a worker
    result = logging_task.delay("now")
    [line] = [line for line in json_lines() if line["logger"] == "tests.logs"]
    assert line["message"] == "inside the task now"
    assert line["task_id"] == result.id and line["task_name"] == "tests.logs.logging_task"
    assert line["request_id"] is None

    log.info("outside any task")
    assert json_lines()[-1]["task_id"] is None and json_lines()[-1]["task_name"] is None


def test_the_text_format_names_the_request_or_the_task(db):
    """LOG_FORMAT=text (the default) prefixes the same context."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(base_settings.LOGGING["formatters"]["text"]["format"]))
    handler.addFilter(ContextFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        logging_task.delay("text")
        assert "[task tests.logs.logging_task " in stream.getvalue()
    finally:
        log.removeHandler(handler)
        log.setLevel(logging.NOTSET)


def test_values_json_cannot_hold_are_written_as_text(json_lines):
    log.info("odd extra", extra={"when": object(), "ids": {1, 2}})
    line = json_lines()[-1]
    assert line["when"].startswith("<object object") and line["ids"] == "{1, 2}"


# --- LOG_FORMAT from the environment ---------------------------------------------------------------------------------

PRODUCTION_LOGGING = r"""
import logging, warnings, django
django.setup()
from django.test import Client
logging.getLogger("probe").warning("hello %s", "json", extra={"n": 1})
warnings.warn("a probe warning\nover two lines", UserWarning, stacklevel=1)
response = Client().get("/api/v1/accounts/", secure=True, HTTP_X_REQUEST_ID="probe-request-1")
print(response.status_code, response["X-Request-ID"])
"""


def run_production(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "LOG_FORMAT", "DEBUG"}}
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="production-like-" + "x" * 60,
        ALLOWED_HOSTS="testserver",
        DATABASE_URL="sqlite:///:memory:",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", PRODUCTION_LOGGING],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["401", "probe-request-1"]
    return done


def test_log_format_json_from_the_environment_switches_production_logging():
    done = run_production(LOG_FORMAT="json")
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    by_logger = {line["logger"]: line for line in lines}
    assert by_logger["probe"]["message"] == "hello json" and by_logger["probe"]["n"] == 1
    assert by_logger["probe"]["level"] == "WARNING" and by_logger["probe"]["request_id"] is None
    access = by_logger["revops.requests"]
    assert access["request_id"] == "probe-request-1" and access["status"] == 401
    # Django's own line for the error answer carries the request's id too.
    assert by_logger["django.request"]["message"] == "Unauthorized: /api/v1/accounts/"
    assert by_logger["django.request"]["request_id"] == "probe-request-1"
    assert [line["logger"] for line in lines].count("django.request") == 1  # Django did not write it again
    # And Python's warnings are JSON lines too.
    assert any(
        "a probe warning\nover two lines" in line["message"] for line in lines if line["logger"] == "py.warnings"
    )


def test_production_logs_text_by_default():
    done = run_production()
    assert " WARNING probe hello json" in done.stderr
    assert "WARNING django.request [request probe-request-1] Unauthorized: /api/v1/accounts/" in done.stderr
    assert "INFO revops.requests [request probe-request-1] GET /api/v1/accounts/ 401" in done.stderr
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stderr.splitlines()[0])
