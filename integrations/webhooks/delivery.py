"""Delivering events: fan each newly committed event out to the endpoints that want it, then POST what is due.

1. `fan_out`: core's `sequence` gives committed events their place; the events after the cursor become one delivery
   per (event, endpoint) for the active endpoints that want their kind, and the cursor moves past them, in one
   transaction (the unique (endpoint, event) pair makes a repeat harmless).
2. `claim`: a worker takes a batch of due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never
   take the same one) and pushes their due time forward by a lease: a worker lost mid-send leaves them due again
   once the lease lapses (delivery is at least once; the idempotency key lets the receiver drop a second copy).
3. `send_batch`: POSTs them from a small thread pool, each thread with its own pooled session whose connections
   check the address they connect to (`addresses.GuardedAdapter`).
4. `record`: 2xx is delivered; anything else is retried with exponential backoff and jitter, and given up ("failed")
   after WEBHOOK_MAX_ATTEMPTS. An endpoint failing WEBHOOK_DISABLE_AFTER_FAILURES attempts in a row, for at least
   WEBHOOK_DISABLE_AFTER_MINUTES, is switched off, and the admins are told.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.events import sequence
from core.models import Event
from core.roles import ADMIN

from ..models import WebhookCursor, WebhookDelivery, WebhookEndpoint
from .addresses import GuardedAdapter, UnsafeAddress
from .signing import signature

log = logging.getLogger(__name__)

CURSOR = "webhooks"
USER_AGENT = "RevOps-Webhooks/1"
FAN_OUT_BATCH = 5_000
RESPONSE_READ_BYTES = 4096  # of an answer's body: a receiver cannot fill the worker's memory


def lease_seconds() -> float:
    """How long a claimed delivery stays with its worker before it is due again: well past one send's timeout."""
    return settings.WEBHOOK_TIMEOUT_SECONDS * 3 + 30


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """The wait after the `attempts`-th failed attempt: base * factor ** (attempts - 1), at most the maximum, plus up
    to 10% jitter (so retries to one endpoint do not arrive in lockstep)."""
    delay = settings.WEBHOOK_RETRY_BASE_SECONDS * settings.WEBHOOK_RETRY_FACTOR ** max(attempts - 1, 0)
    delay = min(delay, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay * (1 + 0.1 * (rng or random).random())


def body_of(event: Event) -> bytes:
    """The JSON body: what happened, to which account, with the event's own data."""
    return json.dumps(
        {
            "id": event.pk,
            "seq": event.seq,
            "kind": event.kind,
            "occurred_at": event.occurred_at.isoformat(),
            "account": event.account_id,
            "data": event.data,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    ).encode()


# --- 1. Fan out ------------------------------------------------------------------------------------------------------


def fan_out(*, limit: int = FAN_OUT_BATCH) -> int:
    """Sequence the committed events, then make the deliveries of those after the cursor. Returns how many events
    were handed out (0: nothing new)."""
    sequence()
    WebhookCursor.objects.get_or_create(name=CURSOR)
    with transaction.atomic():
        cursor = WebhookCursor.objects.select_for_update().get(name=CURSOR)
        events = list(Event.objects.filter(seq__gt=cursor.seq).order_by("seq").values_list("pk", "seq", "kind")[:limit])
        if not events:
            return 0
        endpoints = list(WebhookEndpoint.objects.filter(active=True).values_list("pk", "kinds"))
        now = timezone.now()
        rows = [
            WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, next_attempt_at=now)
            for event_id, _seq, kind in events
            for endpoint_id, kinds in endpoints
            if kind in kinds
        ]
        WebhookDelivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        cursor.seq = events[-1][1]
        cursor.save(update_fields=["seq", "updated_at"])
        return len(events)


# --- 2. Claim --------------------------------------------------------------------------------------------------------


def claim(*, limit: int, now: dt.datetime | None = None) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries of active endpoints, oldest due first; they are not due again until the
    lease lapses. Concurrent workers take different ones."""
    now = now or timezone.now()
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, endpoint__active=True
        ).order_by("next_attempt_at", "pk")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        WebhookDelivery.objects.filter(pk__in=ids).update(next_attempt_at=now + dt.timedelta(seconds=lease_seconds()))
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint", "event").order_by("pk"))


# --- 3. Send ---------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery_id: int
    endpoint_id: int
    ok: bool
    code: int | None
    error: str
    duration_ms: int
    finished: float  # time.monotonic() when it ended: the order of an endpoint's attempts


_local = threading.local()


def session() -> requests.Session:
    """This thread's session: keeps connections to each endpoint open between requests, never uses a proxy from
    the environment (which would connect on its behalf, unchecked), and checks each address it connects to."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.trust_env = False
        adapter = GuardedAdapter(pool_connections=16, pool_maxsize=settings.WEBHOOK_CONCURRENCY, max_retries=0)
        current.mount("http://", adapter)
        current.mount("https://", adapter)
        _local.session = current
    return current


def request_parts(delivery: WebhookDelivery, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (signed with the endpoint's secret as it is now)."""
    body = body_of(delivery.event)
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-RevOps-Event": delivery.event.kind,
        "X-RevOps-Delivery": str(delivery.key),
        "Idempotency-Key": str(delivery.key),
        "X-RevOps-Timestamp": str(timestamp),
        "X-RevOps-Signature": signature(delivery.endpoint.secret, timestamp, body),
    }
    return body, headers


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, int | None, str]:
    """One POST: (delivered, response code, what went wrong in words)."""
    try:
        response = session().post(
            url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,  # the answer's body is read only as far as the log shows it
        )
    except UnsafeAddress as exc:
        return False, None, f"Refused: {exc}"
    except requests.Timeout:
        return False, None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except requests.ConnectionError as exc:
        return False, None, f"Could not connect: {_short(exc)}"
    except requests.RequestException as exc:
        return False, None, f"Request failed: {_short(exc)}"
    with response:
        code = response.status_code
        try:
            head = response.raw.read(RESPONSE_READ_BYTES, decode_content=True) or b""
        except Exception:  # noqa: BLE001  # a body cut short says nothing more than the status
            head = b""
        if 200 <= code < 300:
            return True, code, ""
        snippet = head.decode("utf-8", "replace")[:200].strip()
        return False, code, f"Answered {code} {response.reason or ''}".strip() + (f": {snippet}" if snippet else "")


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "…"


def send_one(delivery: WebhookDelivery) -> Outcome:
    begin = time.monotonic()
    body, headers = request_parts(delivery)
    ok, code, error = post(delivery.endpoint.url, body, headers)
    end = time.monotonic()
    return Outcome(delivery.pk, delivery.endpoint_id, ok, code, error, int((end - begin) * 1000), end)


def send_batch(deliveries: list[WebhookDelivery], *, pool: ThreadPoolExecutor | None = None) -> list[Outcome]:
    if not deliveries:
        return []
    if pool is not None:
        return list(pool.map(send_one, deliveries))
    with ThreadPoolExecutor(max_workers=min(settings.WEBHOOK_CONCURRENCY, len(deliveries))) as own:
        return list(own.map(send_one, deliveries))


# --- 4. Record -------------------------------------------------------------------------------------------------------


def record(deliveries: list[WebhookDelivery], outcomes: list[Outcome], *, now: dt.datetime | None = None) -> None:
    """Store each attempt's outcome; count each endpoint's failures in a row and switch off those past the limit."""
    now = now or timezone.now()
    by_id = {d.pk: d for d in deliveries}
    for outcome in outcomes:
        row = by_id[outcome.delivery_id]
        row.attempts += 1
        row.last_attempt_at = now
        row.response_code = outcome.code
        row.duration_ms = outcome.duration_ms
        row.last_error = outcome.error[:500]
        if outcome.ok:
            row.status, row.delivered_at, row.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
        elif row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            row.status, row.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            row.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(row.attempts))
    _store(list(by_id.values()), now)

    runs: dict[int, list[Outcome]] = {}
    for outcome in sorted(outcomes, key=lambda o: o.finished):
        runs.setdefault(outcome.endpoint_id, []).append(outcome)
    for endpoint_id, attempts in runs.items():
        last_ok = max((i for i, o in enumerate(attempts) if o.ok), default=None)
        if last_ok is None:
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                consecutive_failures=F("consecutive_failures") + len(attempts),
                failing_since=Coalesce(F("failing_since"), Value(now)),
            )
        else:
            failures = len(attempts) - last_ok - 1
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(
                consecutive_failures=failures, failing_since=now if failures else None
            )
        if last_ok is None or last_ok < len(attempts) - 1:
            disable_if_failing(endpoint_id, last_error=attempts[-1].error, now=now)


def _store(rows: list[WebhookDelivery], now: dt.datetime) -> None:
    """Write the attempts' outcomes: on PostgreSQL in one UPDATE ... FROM unnest(...) (Django's bulk_update builds a
    CASE per field and row, slower than the requests themselves)."""
    fields = ["attempts", "last_attempt_at", "response_code", "duration_ms", "last_error", "status", "delivered_at"]
    fields.append("next_attempt_at")
    if connection.vendor != "postgresql":
        WebhookDelivery.objects.bulk_update(rows, fields, batch_size=500)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {WebhookDelivery._meta.db_table} AS d SET attempts = v.attempts, last_attempt_at = %s, "  # noqa: S608  # nosec B608  # the table is the model's; values are parameters
            "response_code = v.code, duration_ms = v.ms, last_error = v.error, status = v.status, "
            "delivered_at = v.delivered_at, next_attempt_at = v.next_at "
            "FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::int[], %s::text[], %s::text[], %s::timestamptz[], "
            "%s::timestamptz[]) AS v(id, attempts, code, ms, error, status, delivered_at, next_at) WHERE d.id = v.id",
            [
                now,
                [r.pk for r in rows],
                [r.attempts for r in rows],
                [r.response_code for r in rows],
                [r.duration_ms for r in rows],
                [r.last_error for r in rows],
                [r.status for r in rows],
                [r.delivered_at for r in rows],
                [r.next_attempt_at for r in rows],
            ],
        )


def disable_if_failing(endpoint_id: int, *, last_error: str, now: dt.datetime) -> bool:
    """Switch the endpoint off once its failures in a row reach the limit and have gone on for the minimum time (a
    receiver restarted with a backlog fails many attempts in a second, and is not switched off for that), and tell
    the admins (once)."""
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    since = now - dt.timedelta(minutes=settings.WEBHOOK_DISABLE_AFTER_MINUTES)
    failing = WebhookEndpoint.objects.filter(
        pk=endpoint_id, active=True, consecutive_failures__gte=limit, failing_since__lte=since
    )
    reason = f"{limit} failed attempts in a row or more; the last: {last_error}"[:300]
    switched = failing.update(active=False, disabled_at=now, disabled_reason=reason)
    if switched:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        log.warning("webhook endpoint %s (%s) switched off: %s", endpoint.pk, endpoint.url, reason)
        tell_admins_disabled(endpoint)
    return bool(switched)


def tell_admins_disabled(endpoint: WebhookEndpoint) -> int:
    """E-mail the active admins that an endpoint was switched off. Returns how many were written to."""
    recipients = sorted(
        {
            (email or "").strip()
            for email in get_user_model()
            .objects.filter(groups__name=ADMIN, is_active=True)
            .values_list("email", flat=True)
            if (email or "").strip()
        }
    )
    if not recipients:
        return 0
    send_mail(
        f"Webhook endpoint switched off: {endpoint.name}",
        f"The webhook endpoint “{endpoint.name}” ({endpoint.url}) failed {endpoint.consecutive_failures} attempts in "
        f"a row and was switched off at {endpoint.disabled_at:%Y-%m-%d %H:%M} UTC. {endpoint.disabled_reason}\n\n"
        "Its pending deliveries wait until it is switched back on (Integrations → Webhooks → Edit → Active); "
        "events that happen while it is off are not sent to it.",
        None,
        recipients,
    )
    return len(recipients)


# --- All together ----------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    events: int = 0
    attempts: int = 0
    delivered: int = 0


def deliver(
    *,
    seconds: float = 50.0,
    batch: int | None = None,
    pool: ThreadPoolExecutor | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RunResult:
    """Fan out new events and send what is due, batch after batch, until nothing is due or `seconds` have passed
    (the task runs every minute and whenever events commit)."""
    if pool is None:  # one pool (and its threads' kept-alive connections) for the whole run
        with ThreadPoolExecutor(max_workers=settings.WEBHOOK_CONCURRENCY, thread_name_prefix="webhook") as own:
            return deliver(seconds=seconds, batch=batch, pool=own, clock=clock)
    batch = batch or settings.WEBHOOK_BATCH_SIZE
    result = RunResult()
    deadline = clock() + seconds
    while True:
        result.events += fan_out()
        claimed = claim(limit=batch)
        if not claimed:
            if not WebhookCursor.objects.filter(name=CURSOR, seq__lt=_top_seq()).exists():
                return result
            continue
        outcomes = send_batch(claimed, pool=pool)
        record(claimed, outcomes)
        result.attempts += len(outcomes)
        result.delivered += sum(1 for o in outcomes if o.ok)
        if clock() >= deadline:
            return result


def _top_seq() -> int:
    return Event.objects.exclude(seq__isnull=True).order_by("-seq").values_list("seq", flat=True).first() or 0
