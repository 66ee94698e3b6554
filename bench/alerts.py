"""Benchmark: chat alerts for a day of events in a large organisation.

50 territories, each with its Slack channel (a local stand-in for Slack's incoming webhook, answering 200 "ok"), a
manager and a rep; 20,000 accounts; 100,000 events (60% MQAs handed to reps, 30% surges, 10% SLA breaches) committed
at once, as after an import or a rescore of everything. One rep in ten has opted out of surges.

Printed, beside the target (every event turned into alerts in <= 60 s at full size, and each channel posting its
burst as one message plus one digest):
- the baseline, measured in the same run: reading the same events in commit order (`seq`), nothing else;
- sequencing the events (`core.events.sequence`), then reading them into alerts (`alerts_from_events`, batch after
  batch, as the minute's drain does), with events per second;
- posting: the first drain (one message per channel, at once) and the drain after the cooldown (one digest per
  channel), with the messages the stand-in received and their largest size.
BENCH_SCALE=0.01 runs it at 1% of the size.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time

from _common import ROOT, django_on_fresh_database, scale

TERRITORIES = 50
TARGET_SECONDS = 60.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def timed(fn):
    begin = time.monotonic()
    value = fn()
    return value, time.monotonic() - begin


def load(slack_hook, accounts: int, events: int) -> int:
    """The world and the events; returns the reps who opted out of surges."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from accounts.models import Account
    from core.models import Event
    from integrations.models import AlertChannel, AlertPreference
    from territories.models import Membership, Territory

    with transaction.atomic():
        territories = Territory.objects.bulk_create(Territory(name=f"Territory {t:02}") for t in range(TERRITORIES))
        reps = User.objects.bulk_create(
            User(username=f"rep{t}", first_name="Rep", last_name=str(t)) for t in range(TERRITORIES)
        )
        managers = User.objects.bulk_create(
            User(username=f"manager{t}", first_name="Manager", last_name=str(t)) for t in range(TERRITORIES)
        )
        Membership.objects.bulk_create(
            [Membership(user=reps[t], territory=territories[t]) for t in range(TERRITORIES)]
            + [Membership(user=managers[t], territory=territories[t], role="manager") for t in range(TERRITORIES)]
        )
        opted_out = AlertPreference.objects.bulk_create(
            AlertPreference(user=reps[t], surge=False) for t in range(7, TERRITORIES, 10)
        )
        AlertChannel.objects.bulk_create(
            AlertChannel(
                kind="slack", name=f"#sales-{t:02}", webhook_url=slack_hook(f"T0/B0/{t}"), territory=territories[t]
            )
            for t in range(TERRITORIES)
        )
        rows = Account.objects.bulk_create(
            (
                Account(name=f"Account {n}", territory=territories[n % TERRITORIES], owner=reps[n % TERRITORIES])
                for n in range(accounts)
            ),
            batch_size=2000,
        )
        now = dt.datetime.now(dt.UTC)
        kinds = ["handoff.assigned"] * 6 + ["surge.started"] * 3 + ["handoff.breached"]
        draw = random.Random(7)  # noqa: S311  # nosec B311  # a fixed mix of kinds, not a secret
        # Written as the apps write them, without the wake-up (the drains below are what is timed).
        Event.objects.bulk_create(
            (
                Event(kind=draw.choice(kinds), account_id=rows[n % accounts].pk, data={}, occurred_at=now)
                for n in range(events)
            ),
            batch_size=5000,
        )
    return len(opted_out)


def main() -> None:
    os.environ.update(ALERTS_ALLOW_HTTP="true", ALERTS_ALLOW_PRIVATE_URLS="true", ALERTS_RETRIES="0")
    django_on_fresh_database("revops_bench_alerts")
    sys.path.insert(0, str(ROOT))
    from django.utils import timezone

    from core.models import Event
    from integrations.alerts.services import alerts_from_events, alerts_send, sequence_all
    from integrations.models import Alert
    from tests.integrations.chat_servers import chat_server

    size = scale()
    accounts, events = max(TERRITORIES * 2, int(20_000 * size)), max(1000, int(100_000 * size))
    with chat_server("slack") as slack:
        (opted_out, took) = timed(lambda: load(slack.hook, accounts, events))
        print(
            f"set-up: {TERRITORIES} territories with a Slack channel each, {accounts:,} accounts, {events:,} events "
            f"({opted_out} reps opted out of surges) in {took:.1f} s"
        )

        from django.urls import reverse

        reverse("account-detail", args=[1])  # the URL configuration loaded, as in a running worker
        _, sequencing = timed(sequence_all)
        placed = Event.objects.filter(seq__isnull=False).count()
        rows, baseline = timed(
            lambda: len(
                list(Event.objects.filter(seq__gt=0).order_by("seq").values_list("id", "kind", "account_id", "data"))
            )
        )
        print(f"baseline: reading the {rows:,} events in commit order: {baseline:.2f} s")

        def read_all() -> int:
            total, more = 0, True
            while more:
                read, more = alerts_from_events(place=False)
                total += read
            return total

        read, reading = timed(read_all)
        alerts = Alert.objects.count()
        print(f"sequencing: {placed:,} events placed in {sequencing:.2f} s")
        print(
            f"reading into alerts: {read:,} events -> {alerts:,} alerts in {reading:.2f} s "
            f"({read / max(reading, 1e-9):,.0f} events/s; {reading / max(baseline, 1e-9):.1f}x the baseline); "
            f"target <= {TARGET_SECONDS * size:.1f} s at this size: {verdict(reading <= TARGET_SECONDS * size)}"
        )

        first, posting = timed(alerts_send)
        print(
            f"first drain: {first.messages} messages ({first.alerts} alerts, one per channel, at once) "
            f"in {posting:.2f} s"
        )
        later = timezone.now() + dt.timedelta(seconds=301)
        digest, posting = timed(lambda: alerts_send(now=later))
        print(f"after the cooldown: {digest.messages} digests ({digest.alerts:,} alerts) in {posting:.2f} s")
        sizes = [len(str(body)) for body in slack.delivered()]
        held = Alert.objects.filter(status="held").count()
        ok = first.messages == TERRITORIES and digest.messages == TERRITORIES and held == 0
        print(
            f"messages received by the stand-in: {len(sizes)}, the largest {max(sizes):,} characters; alerts left "
            f"waiting: {held}; one message plus one digest per channel: {verdict(ok)}"
        )
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
