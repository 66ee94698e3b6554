"""Posting to an incoming webhook: a bounded number of tries, honouring Retry-After on 429 and 5xx answers.

Slack answers 200 "ok", or an error word with a 4xx (404 "no_service": the webhook was removed; 410
"channel_is_archived"; 400 "invalid_payload") and 429 with Retry-After when posting too fast. Teams' incoming webhooks
answer 200 "1" (Workflows: 202); the older connectors sometimes answer 200 with a failure in words, which counts as
a failure too.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils import timezone

from .addresses import AddressRefused, check_webhook_url

SLACK_ERRORS = {
    "no_service": "the webhook was removed or switched off in Slack",
    "no_team": "the Slack workspace is gone",
    "team_disabled": "the Slack workspace is disabled",
    "channel_not_found": "the Slack channel is gone",
    "channel_is_archived": "the Slack channel is archived",
    "action_prohibited": "a Slack admin restricted posting to the channel",
    "posting_to_general_channel_denied": "only admins may post to the channel",
    "invalid_token": "the webhook address is no longer valid",  # nosec B105  # an error word, not a secret
    "invalid_payload": "Slack refused the message's format",
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str = ""
    # A failure that may pass (429, 5xx, no answer): try again after this many seconds. None: it will not pass.
    retry_after: float | None = None
    tries: int = 0


def retry_after_seconds(value: str | None, default: float) -> float:
    """Retry-After as seconds (a number of seconds or an HTTP date); `default` when absent or unreadable."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - timezone.now()).total_seconds())


def _describe(tool: str, status: int, body: str) -> str:
    name = "Slack" if tool == "slack" else "Microsoft Teams"
    body = " ".join(body.split())[:200]
    meaning = SLACK_ERRORS.get(body) if tool == "slack" else None
    words = f"{name} answered {status}" + (f" “{body}”" if body else "")
    return f"{words}: {meaning}." if meaning else f"{words}."


def post(
    url: str,
    body: dict,
    *,
    tool: str,
    retries: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Post `body` as JSON to the webhook, retrying 429/5xx/no answer up to `retries` times (ALERTS_RETRIES) when
    the wait asked for is at most ALERTS_RETRY_WAIT_MAX seconds; a longer wait is left to a later drain."""
    try:
        check_webhook_url(url)
    except AddressRefused as refused:
        return Outcome(ok=False, error=f"Not sent: {refused}")
    retries = settings.ALERTS_RETRIES if retries is None else retries
    error, wait = "", 0.0
    for attempt in range(retries + 1):
        backoff = float(2**attempt)
        try:
            response = requests.post(url, json=body, timeout=settings.ALERTS_TIMEOUT_SECONDS, allow_redirects=False)
        except requests.RequestException as failure:
            error, wait = f"No answer from the webhook ({failure.__class__.__name__}).", backoff
        else:
            text = response.text or ""
            status = response.status_code
            if 200 <= status < 300:
                failed_in_words = tool == "teams" and "failed" in text.lower()
                if not failed_in_words:
                    return Outcome(ok=True, tries=attempt + 1)
                if "429" not in text:
                    return Outcome(ok=False, error=_describe(tool, status, text), tries=attempt + 1)
                error, wait = _describe(tool, status, text), backoff
            elif status == 429 or status >= 500:
                error = _describe(tool, status, text)
                wait = retry_after_seconds(response.headers.get("Retry-After"), backoff)
            else:
                return Outcome(ok=False, error=_describe(tool, status, text), tries=attempt + 1)
        if attempt < retries and wait <= settings.ALERTS_RETRY_WAIT_MAX:
            sleep(wait)
            continue
        return Outcome(ok=False, error=error, retry_after=wait, tries=attempt + 1)
    raise AssertionError("unreachable")  # pragma: no cover
