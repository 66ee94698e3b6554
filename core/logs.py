"""Request ids and structured logs.

Every request gets an id: the proxy's X-Request-ID when it is a plain token, else a new one. It is sent back in the
answer's X-Request-ID and carried by every log line the request writes; lines written by a Celery task carry the
task's id and name instead. With LOG_FORMAT=json each line is one JSON object.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid

from django.utils.log import log_response

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
requests_log = logging.getLogger("revops.requests")


class RequestIdMiddleware:
    """Sets the request id and writes one log line per request (method, path, status, time), as an access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        rid = given if REQUEST_ID_SHAPE.match(given) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            if response.status_code >= 400:
                # Django's own line for an error answer ("Not Found: /x", on django.request) is written after every
                # middleware has returned, when the id is gone: written here, with it (Django then skips its own).
                log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
            requests_log.info(
                "%s %s %s %.0f ms",
                request.method,
                request.path,
                response.status_code,
                (time.monotonic() - started) * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "user_id": getattr(getattr(request, "user", None), "pk", None),
                },
            )
            return response
        finally:
            request_id.reset(token)


def _current_task():
    from celery import current_task

    task = current_task._get_current_object()  # None outside a task
    return task if task is not None and getattr(task.request, "id", None) else None


class ContextFilter(logging.Filter):
    """Adds request_id, task_id and task_name to each record (None when absent), and `context`, a text prefix."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        task = _current_task()
        record.task_id = task.request.id if task else None
        record.task_name = task.name if task else None
        if record.request_id:
            record.context = f"[request {record.request_id}] "
        elif record.task_id:
            record.context = f"[task {record.task_name} {record.task_id}] "
        else:
            record.context = ""
        return True


# LogRecord's own attributes: whatever else a record carries was passed as `extra` and goes into the JSON object.
RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "context"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "task_id": getattr(record, "task_id", None),
            "task_name": getattr(record, "task_name", None),
        }
        for key, value in vars(record).items():
            if key not in RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
