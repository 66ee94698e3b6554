"""Chat alerts: domain events become alerts for channels, and channels post them, at once or in one digest.

Reading. `alerts_from_events` reads the committed events after its cursor (by `seq`, in commit order): for each new
MQA handed to a rep (handoff.assigned), SLA breach (handoff.breached) and surge (surge.started) it finds who is told
(the rep; the territory's managers; the account's owner), drops the people who opted out, and holds one alert for
each channel that carries the kind: the channels of the account's territory, else of the nearest territory above
it with one, else the default channels (no territory). The alerts and the cursor's move commit together, so an event
is read once, never skipped.

Sending. `alerts_send` posts each channel's held alerts. A channel that has been quiet posts the first at once and
then keeps quiet for ALERTS_COOLDOWN_SECONDS; what arrives meanwhile is held and posted as one digest when the quiet
ends ("3 new MQAs for Dana: Acme, Globex, Initech"). A failure that may pass (429, 5xx, no answer) keeps the alerts
held for the next try, at the time the chat tool asked for; one that will not (the webhook removed) marks them
failed. Either way the channel page shows the last error.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from core.events import sequence
from core.models import Event
from territories.models import Membership, Territory

from ..models import Alert, AlertChannel, AlertCursor, AlertKind, AlertPreference
from . import messages
from .delivery import Outcome, post

CURSOR = "chat-alerts"
KINDS = {
    Event.Kind.HANDOFF_ASSIGNED: AlertKind.MQA,
    Event.Kind.HANDOFF_BREACHED: AlertKind.BREACH,
    Event.Kind.SURGE_STARTED: AlertKind.SURGE,
}
READ_BATCH = 1000
SCAN_WINDOW = 10_000  # places of the event log looked at per read
DIGEST_MAX = 5_000  # alerts in one digest at most; more wait for the next one


def account_url(account_id: int) -> str:
    """The account page's absolute address (SITE_URL: the address people open the product at)."""
    return account_urls()(account_id)


def account_urls() -> Callable[[int], str]:
    """account_url for many accounts: the address resolved once, then filled in with each id."""
    marker = 987_654_321
    prefix, suffix = reverse("account-detail", args=[marker]).split(str(marker))
    base = settings.SITE_URL.rstrip("/") + prefix
    return lambda account_id: f"{base}{int(account_id)}{suffix}"


def person(user) -> str:
    return user.get_full_name() or user.username


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "", False) else None
    except (TypeError, ValueError):
        return None


# --- Reading the events ------------------------------------------------------------------------------------------


@dataclass
class Routing:
    """What one batch of events needs to know, read once: channels, territories above others, managers, people."""

    channels: dict[int | None, list[AlertChannel]]
    parents: dict[int, int | None]
    managers: dict[int, list[int]]

    @classmethod
    def load(cls) -> Routing:
        channels: dict[int | None, list[AlertChannel]] = {}
        for channel in AlertChannel.objects.order_by("pk"):
            channels.setdefault(channel.territory_id, []).append(channel)
        managers: dict[int, list[int]] = {}
        for territory_id, user_id in (
            Membership.objects.filter(role=Membership.Role.MANAGER, is_active=True, user__is_active=True)
            .order_by("user__first_name", "user__last_name", "user__username")
            .values_list("territory_id", "user_id")
        ):
            managers.setdefault(territory_id, []).append(user_id)
        parents = dict(Territory.objects.values_list("id", "parent_id"))
        return cls(channels=channels, parents=parents, managers=managers)

    def _up(self, territory_id: int | None) -> Iterable[int]:
        seen: set[int] = set()
        while territory_id is not None and territory_id not in seen:
            seen.add(territory_id)
            yield territory_id
            territory_id = self.parents.get(territory_id)

    def channels_for(self, territory_id: int | None, kind: str) -> list[AlertChannel]:
        for territory in self._up(territory_id):
            found = [c for c in self.channels.get(territory, []) if c.carries(kind)]
            if found:
                return found
        return [c for c in self.channels.get(None, []) if c.carries(kind)]

    def managers_of(self, territory_id: int | None) -> list[int]:
        for territory in self._up(territory_id):
            if self.managers.get(territory):
                return self.managers[territory]
        return []


def _people(user_ids: set[int]) -> tuple[dict[int, dict], dict[int, AlertPreference]]:
    users = {user.pk: user for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("pk")}
    preferences = {p.user_id: p for p in AlertPreference.objects.filter(user_id__in=user_ids)}
    people = {
        pk: {
            "user_id": pk,
            "name": person(user),
            "slack_user_id": preferences[pk].slack_user_id if pk in preferences else "",
        }
        for pk, user in users.items()
    }
    return people, preferences


def alerts_for_events(events: list[Event]) -> list[Alert]:
    """The alerts (unsaved) that these events make."""
    wanted = [e for e in events if e.kind in KINDS and e.account_id]
    if not wanted:
        return []
    routing = Routing.load()
    if not routing.channels:
        return []
    accounts = {
        a["id"]: a
        for a in Account.objects.filter(pk__in={e.account_id for e in wanted}).values(
            "id", "name", "owner_id", "territory_id"
        )
    }
    plans = []  # (event, kind, account, territory_id, user ids told)
    for event in wanted:
        account = accounts.get(event.account_id)
        if account is None:
            continue  # gone (merged or deleted) before we read of it: nothing to link to
        kind = KINDS[event.kind]
        data = event.data if isinstance(event.data, dict) else {}
        territory_id = _int(data.get("territory_id")) or account["territory_id"]
        if kind == AlertKind.BREACH:
            told = routing.managers_of(territory_id)
        else:
            owner = _int(data.get("owner_id")) or account["owner_id"]
            told = [owner] if owner else []
        plans.append((event, kind, account, territory_id, told))
    people, preferences = _people({u for *_, told in plans for u in told})
    alerts = []
    for event, kind, account, territory_id, told in plans:
        known = [u for u in told if u in people]
        listening = [u for u in known if u not in preferences or preferences[u].wants(kind)]
        if known and not listening:
            continue  # everyone it would tell opted out of this kind
        for channel in routing.channels_for(territory_id, kind):
            alerts.append(
                Alert(
                    channel=channel,
                    kind=kind,
                    event_id=event.pk,
                    account_id=account["id"],
                    account_name=account["name"],
                    people=[people[u] for u in listening],
                )
            )
    return alerts


def sequence_all() -> None:
    """Give every committed event its place (`sequence` places up to 50,000 at a time)."""
    while sequence() >= 50_000:
        pass


class Read(NamedTuple):
    events: int  # events of the alerts' kinds read
    more: bool  # committed events remain after the cursor


def alerts_from_events(*, limit: int = READ_BATCH, place: bool = True) -> Read:
    """Read committed events after the cursor into held alerts: up to `limit` of the alerts' kinds, within the next
    SCAN_WINDOW places, so each read costs the same however many events wait. One reader at a time (the cursor's row
    is locked); `place`: sequence the committed events first."""
    if place:
        sequence_all()
    AlertCursor.objects.get_or_create(name=CURSOR)
    with transaction.atomic():
        cursor = AlertCursor.objects.select_for_update().get(name=CURSOR)
        # The top first: every event placed up to it is committed, so the read below sees them all.
        top = Event.objects.filter(seq__isnull=False).aggregate(top=Max("seq"))["top"] or 0
        if top <= cursor.last_seq:
            return Read(0, False)
        upper = min(top, cursor.last_seq + SCAN_WINDOW)
        events = list(
            Event.objects.filter(seq__gt=cursor.last_seq, seq__lte=upper, kind__in=list(KINDS)).order_by("seq")[:limit]
        )
        alerts = alerts_for_events(events)
        Alert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=1000)
        cursor.last_seq = events[-1].seq if len(events) == limit else upper
        cursor.save(update_fields=["last_seq", "updated_at"])
        return Read(len(events), cursor.last_seq < top)


# --- Sending -----------------------------------------------------------------------------------------------------


@dataclass
class SendResult:
    messages: int = 0
    alerts: int = 0
    failed: int = 0


def _item(alert: Alert, url: Callable[[int], str]) -> messages.Item:
    return messages.Item(
        kind=alert.kind,
        account_name=alert.account_name,
        url=url(alert.account_id) if alert.account_id else settings.SITE_URL,
        people=tuple(alert.people or ()),
    )


def cooldown() -> dt.timedelta:
    return dt.timedelta(seconds=settings.ALERTS_COOLDOWN_SECONDS)


def _record(channel: AlertChannel, outcome: Outcome, now: dt.datetime) -> None:
    if outcome.ok:
        channel.last_sent_at = now
        channel.save(update_fields=["last_sent_at", "quiet_until", "updated_at"])
    else:
        channel.last_error, channel.last_error_at = outcome.error, now
        channel.save(update_fields=["last_error", "last_error_at", "quiet_until", "updated_at"])


def channel_send(channel_id: int, *, now: dt.datetime, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Post what the channel holds and may post now (see the module's docstring). The channel's row stays locked
    while it posts, so two drains never post the same alerts."""
    result = SendResult()
    with transaction.atomic():
        channel = AlertChannel.objects.select_for_update(skip_locked=True).filter(pk=channel_id).order_by("pk").first()
        if channel is None:
            return result  # another drain is posting to it
        if channel.quiet_until and now < channel.quiet_until:
            return result  # quiet: what it holds goes in the digest when the quiet ends
        held = channel.alerts.filter(status=Alert.Status.HELD).order_by("created_at", "pk")
        first = held.first()
        if first is None:
            return result
        # Held during the quiet: one digest of them all. The first after a quiet spell goes at once; the rest wait.
        in_quiet = channel.quiet_until is not None and first.created_at < channel.quiet_until
        batch = list(held[:DIGEST_MAX]) if in_quiet else [first]
        minutes = max(1, round(settings.ALERTS_COOLDOWN_SECONDS / 60))
        url = account_urls()
        body = messages.payload(channel.kind, [_item(a, url) for a in batch], minutes=minutes)
        outcome = post(channel.webhook_url, body, tool=channel.kind, sleep=sleep)
        ids = [a.pk for a in batch]
        if outcome.ok:
            Alert.objects.filter(pk__in=ids).update(
                status=Alert.Status.SENT, sent_at=now, in_digest=len(batch) > 1, error=""
            )
            channel.quiet_until = now + cooldown()
            result.messages, result.alerts = 1, len(batch)
        elif outcome.retry_after is not None:  # may pass: keep them for the next try, when the tool asked
            channel.quiet_until = now + dt.timedelta(seconds=max(outcome.retry_after, 1))
            Alert.objects.filter(pk__in=ids).update(error=outcome.error)
        else:
            Alert.objects.filter(pk__in=ids).update(status=Alert.Status.FAILED, error=outcome.error)
            result.failed = len(batch)
        _record(channel, outcome, now)
    return result


def alerts_send(*, now: dt.datetime | None = None, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Every channel with held alerts posts what it may now."""
    now = now or timezone.now()
    total = SendResult()
    channel_ids = list(
        Alert.objects.filter(status=Alert.Status.HELD)
        .order_by("channel_id")
        .values_list("channel_id", flat=True)
        .distinct()
    )
    for channel_id in channel_ids:
        sent = channel_send(channel_id, now=now, sleep=sleep)
        total.messages += sent.messages
        total.alerts += sent.alerts
        total.failed += sent.failed
    return total


def alerts_drain(*, now: dt.datetime | None = None, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """The task's work: read every new event, then post what each channel may."""
    sequence_all()
    while alerts_from_events(place=False).more:
        pass
    return alerts_send(now=now, sleep=sleep)


# --- Channels and preferences ------------------------------------------------------------------------------------


def channel_send_test(*, channel: AlertChannel) -> Outcome:
    """Post the test message now (one try: the admin is waiting) and record the answer on the channel."""
    outcome = post(
        channel.webhook_url, messages.trial_payload(channel.kind, channel.name), tool=channel.kind, retries=0
    )
    with transaction.atomic():
        locked = AlertChannel.objects.select_for_update().get(pk=channel.pk)
        _record(locked, outcome, timezone.now())
    return outcome


def channel_delete(*, channel: AlertChannel) -> None:
    """The channel and its alerts go; its territory's accounts are told through the default channel from now on."""
    channel.delete()


def preference_for(user) -> AlertPreference:
    """The user's chat alert preferences (everything on until they say otherwise)."""
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)


def preference_save(*, user, slack_user_id: str, mqa: bool, breach: bool, surge: bool) -> AlertPreference:
    preference, _ = AlertPreference.objects.update_or_create(
        user=user, defaults={"slack_user_id": slack_user_id, "mqa": mqa, "breach": breach, "surge": surge}
    )
    return preference
