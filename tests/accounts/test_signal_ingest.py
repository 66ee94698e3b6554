"""Writing a posted batch of signals (accounts/ingest.py): one statement on PostgreSQL, the importer elsewhere; the
same counts, rows, rescore queue and refusals on both, and a fixed number of queries per batch on PostgreSQL."""

import datetime as dt
import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import ingest
from accounts.imports import import_records
from accounts.ingest import SignalItem, signals_ingest
from accounts.models import PendingRescore, Signal

from ..conftest import require_postgres
from ..factories import AccountFactory, ContactFactory

URL = "/api/v1/signals/"
MOMENT = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


def item(account, n: int, **overrides) -> dict:
    return {"account": account.pk, "kind": "web_visit", "topic": "pricing",
            "occurred_at": (MOMENT + dt.timedelta(minutes=n)).isoformat(), "external_id": f"S{n}", **overrides}  # fmt: skip


def stored() -> list[tuple]:
    return sorted(
        Signal.objects.values_list("account_id", "contact_id", "kind", "topic", "occurred_at", "source", "external_id"),
        key=repr,
    )


def test_a_changed_signal_is_updated_and_its_account_queued_again(api, world):
    account = world.north_account
    assert api.post(URL, [item(account, 1), item(account, 2)], format="json").json() == {
        "created": 2, "updated": 0, "unchanged": 0}  # fmt: skip
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) >= {account.pk}
    PendingRescore.objects.all().delete()
    again = api.post(URL, [item(account, 1), item(account, 2)], format="json")
    assert again.status_code == 200 and again.json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert not PendingRescore.objects.exists()  # nothing written, nothing to rescore
    moved = api.post(URL, [item(account, 1, topic="security"), item(world.south_account, 2)], format="json")
    assert moved.status_code == 200 and moved.json() == {"created": 0, "updated": 2, "unchanged": 0}
    assert Signal.objects.get(external_id="S1").topic == "security"
    assert Signal.objects.get(external_id="S2").account == world.south_account
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) == {account.pk, world.south_account.pk}


def test_a_signal_without_an_external_id_is_kept_once_as_the_same_event(api, world):
    contact = ContactFactory(account=world.north_account)
    event = item(world.north_account, 5, external_id=None, contact=contact.pk)
    other = item(world.north_account, 5, external_id="", topic="")  # the same moment, no topic and no contact
    assert api.post(URL, [event, other], format="json").json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert api.post(URL, [other, event], format="json").json() == {"created": 0, "updated": 0, "unchanged": 2}
    assert Signal.objects.filter(external_id__isnull=True).count() == 2
    assert Signal.objects.filter(topic="", contact=None).count() == 1


def test_unknown_references_are_refused_by_item_and_nothing_is_written(api, world):
    mine = ContactFactory(account=world.north_account)
    theirs = ContactFactory(account=world.south_account)
    batch = [
        item(world.north_account, 1, contact=mine.pk),
        item(world.north_account, 2, contact=theirs.pk),
        {**item(world.north_account, 3), "account": 987654, "contact": theirs.pk},
        item(world.north_account, 4, contact=987655),
    ]
    response = api.post(URL, batch, format="json")
    assert response.status_code == 400 and response.json() == {
        "detail": "Nothing was saved.",
        "errors": [
            {"index": 1, "field": "contact", "detail": f"contact {theirs.pk} not found on this account"},
            {"index": 2, "field": "account", "detail": "account 987654 does not exist"},
            {"index": 3, "field": "contact", "detail": "contact 987655 not found on this account"},
        ],
    }
    assert not Signal.objects.exists() and not PendingRescore.objects.exists()


def test_a_key_twice_in_a_batch_is_refused_as_the_importer_words_it(api, world):
    twice = [item(world.north_account, 1), item(world.north_account, 2, external_id="S1"),
             item(world.north_account, 3, external_id=None), item(world.north_account, 3, external_id=None)]  # fmt: skip
    response = api.post(URL, twice, format="json")
    assert response.status_code == 400 and response.json()["errors"] == [
        {"index": 1, "field": "external_id", "detail": "duplicate external_id 'S1' in this batch (first at index 0)"},
        {"index": 3, "field": None, "detail": "duplicate event None in this batch (first at index 2)"},
    ]
    assert not Signal.objects.exists()


@pytest.mark.postgres
def test_what_the_statement_cannot_take_goes_to_the_importer(world, monkeypatch):
    """A deadlock (or any refusal of the database) in the statement: nothing of it stays, the importer writes."""
    from django.db import OperationalError

    require_postgres()

    def refused(items):
        with connection.cursor() as cursor:  # something written first, then the database refuses
            cursor.execute("INSERT INTO segmentation_pendingrescore (account_id, requested_at) VALUES (424242, %s)",
                           [MOMENT])  # fmt: skip
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(ingest, "_statement", refused)
    report = signals_ingest([SignalItem(world.north_account.pk, None, "meeting", None, MOMENT, None, "D1")])
    assert (report.created, report.errors) == (1, [])
    assert Signal.objects.get().external_id == "D1"
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) == {world.north_account.pk}


def random_batches(accounts, contacts, seed: int) -> list[list[SignalItem]]:
    """Batches mixing new, repeated and changed signals, keyed and not, some naming what does not exist."""
    rng = random.Random(seed)
    batches, sent = [], []
    for _ in range(20):
        keys: set = set()
        batch = []
        for _ in range(rng.randint(1, 25)):
            account = rng.choice(accounts)
            contact = rng.choice([None, None, *contacts[account]]) if rng.random() < 0.97 else rng.choice(contacts[-1])
            if rng.random() < 0.02:
                account = 987654
            external_id = rng.choice([None, f"E{rng.randint(1, 40)}", f"E{rng.randint(1, 40)}", ""])
            moment = MOMENT + dt.timedelta(hours=rng.randint(0, 5), microseconds=rng.choice([0, 1, 999_999]))
            if rng.random() < 0.05:  # the ends of the calendar
                moment = rng.choice(
                    [
                        dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC),
                        dt.datetime.max.replace(tzinfo=dt.UTC),
                        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
                    ]
                )
            kind, topic = rng.choice(["meeting", "web_visit"]), rng.choice(["", "pricing", None])
            key = external_id or ("event", account, kind, moment, topic or None, contact)
            if key in keys:
                continue
            signal = SignalItem(account, contact, kind, topic, moment, rng.choice([None, "crm"]), external_id)
            if sent and rng.random() < 0.2:  # one sent before, again as it was
                signal = rng.choice(sent)
                key = signal.external_id or ("event", *signal[:1], signal.kind, signal.occurred_at, signal.topic or None,
                                             signal.contact)  # fmt: skip
                if key in keys:
                    continue
            keys.add(key)
            batch.append(signal)
        sent.extend(batch)
        batches.append(batch)
    return batches


def outcome(write, batches) -> tuple[list, list, list]:
    reports, queued = [], []
    for batch in batches:
        PendingRescore.objects.all().delete()
        report = write(batch)
        # A refused batch answers with its reasons alone (and writes nothing).
        errors = [(e.line, e.reason) for e in report.errors]
        reports.append(errors or (report.created, report.updated, report.unchanged))
        queued.append(sorted(PendingRescore.objects.values_list("account_id", flat=True)))
    return reports, queued, stored()


def by_importer(batch):
    with transaction.atomic():
        report = import_records(kind="signals", records=[i.record() for i in batch])
        if report.errors:
            transaction.set_rollback(True)
    return report


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_statement_writes_what_the_importer_writes(world, seed):
    require_postgres()
    accounts = [AccountFactory().pk for _ in range(4)]
    contacts = {a: [ContactFactory(account_id=a).pk for _ in range(2)] for a in accounts}
    contacts[-1] = [c for cs in contacts.values() for c in cs]  # a contact of another account, now and then
    batches = random_batches(accounts, contacts, seed)
    with transaction.atomic():
        fast = outcome(signals_ingest, batches)
        transaction.set_rollback(True)
    slow = outcome(by_importer, batches)
    assert fast == slow
    written = [r for r in slow[0] if isinstance(r, tuple)]
    assert all(any(r[n] for r in written) for n in range(3)), slow[0]  # some created, some updated, some unchanged
    assert len(written) < len(batches), slow[0]  # some refused


def write_queries(batch) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        report = signals_ingest(batch)
    assert report.errors == []
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in (q["sql"] or "")]


@pytest.mark.postgres
def test_a_batch_is_one_statement_whatever_its_size(world):
    require_postgres()
    accounts = [AccountFactory().pk for _ in range(50)]

    def batch(size: int, tag: str) -> list[SignalItem]:
        return [SignalItem(accounts[i % 50], None, "meeting", "t", MOMENT + dt.timedelta(seconds=i), "s", f"{tag}{i}")
                for i in range(size)]  # fmt: skip

    assert len(write_queries(batch(10, "a"))) == 1
    assert len(write_queries(batch(500, "b"))) == 1
    assert len(write_queries(batch(500, "b"))) == 1  # the re-post
    assert Signal.objects.count() == 510


@pytest.mark.postgres
def test_the_api_asks_the_same_number_of_queries_for_10_signals_as_for_1000(api, world):
    require_postgres()
    accounts = [AccountFactory() for _ in range(20)]
    counts = []
    assert api.post(URL, item(accounts[0], 0, external_id="first"), format="json").status_code == 201
    for size, tag in ((10, "a"), (1000, "b")):
        body = [item(accounts[i % 20], i, external_id=f"{tag}{i}") for i in range(size)]
        with CaptureQueriesContext(connection) as queries:
            assert api.post(URL, body, format="json").status_code == 201
        counts.append([(q["sql"] or "the statement")[:60] for q in queries.captured_queries])
    assert len(counts[0]) == len(counts[1]) <= 3, counts  # the statement, in its savepoint
