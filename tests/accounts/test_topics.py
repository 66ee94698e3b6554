"""Intent topics: the surge of each account's topics (the z-score over its windows, floors and minimum), stored and
kept on the account as `surging_topics`, the rescore queue for those that changed, SQL equal to Python, the nightly
task and the admins' refresh."""

import datetime as dt
import random

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, PendingRescore, Signal, TopicSurge
from accounts.tasks import topic_surges_task
from accounts.topics import (
    SurgeRules,
    python_surges,
    sql_surges,
    surge_of,
    surge_sentence,
    topic_surges_refresh,
)
from core.models import Job

from ..conftest import require_postgres
from ..factories import AccountFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
RULES = SurgeRules()  # 7-day windows, 8 of them as the baseline, z >= 2, std floor 1, at least 5 recent signals
WEEK = dt.timedelta(days=7)


def add(account, topic: str, at: list[dt.datetime], kind: str = "content_download") -> None:
    Signal.objects.bulk_create([Signal(account=account, kind=kind, topic=topic, occurred_at=t) for t in at])


def weekly(account, topic: str, counts: list[int], recent: int, now: dt.datetime = NOW) -> None:
    """`recent` signals in the last week, then counts[k] in the k-th week before it (0: the latest)."""
    times = [now - dt.timedelta(hours=6 + 10 * i) for i in range(recent)]
    for k, count in enumerate(counts):
        end = now - WEEK - k * WEEK
        times += [end - dt.timedelta(hours=3 + 10 * i) for i in range(count)]
    add(account, topic, times)


def surges() -> dict[tuple[str, str], TopicSurge]:
    return {(s.account.name, s.topic): s for s in TopicSurge.objects.select_related("account")}


# --- The measure ----------------------------------------------------------------------------------------------------


def test_the_z_score_uses_the_accounts_own_weekly_baseline_with_its_floor_and_minimum():
    steady = surge_of(6, [4, 6, 5, 5, 3, 7, 5, 5], RULES)  # about as usual
    assert steady[:2] == (5.0, pytest.approx(1.118, abs=1e-3))
    assert steady[2] == pytest.approx((6 - 5) / 1.118034, abs=1e-4) and steady[3] is False
    spike = surge_of(14, [1, 2, 3, 2, 1, 2, 3, 2], RULES)  # std 0.71: the floor (1) divides
    assert spike == (2.0, pytest.approx(0.7071, abs=1e-4), 12.0, True)
    assert surge_of(6, [], RULES) == (0.0, 0.0, 6.0, True)  # a new topic with enough signals
    assert surge_of(4, [], RULES)[3] is False  # a new topic with too few: z 4, but fewer than 5 signals
    assert surge_of(3, [3] * 8, RULES)[2:] == (0.0, False)  # perfectly steady
    strict = SurgeRules(z_threshold=13.0)
    assert surge_of(14, [1, 2, 3, 2, 1, 2, 3, 2], strict)[3] is False


def test_the_settings_state_the_defaults():
    assert SurgeRules.current() == SurgeRules(
        window_days=7, baseline_windows=8, z_threshold=2.0, std_floor=1.0, min_recent=5
    )
    assert settings.CELERY_BEAT_SCHEDULE["topic-surges"]["task"] == "accounts.tasks.topic_surges_task"


# --- Stored ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def spread():
    """Accounts whose topics are steady, spike, are new, or only look busy through signals outside the windows."""
    acme, globex, initech, umbrella = (AccountFactory(name=n) for n in ("Acme", "Globex", "Initech", "Umbrella"))
    weekly(acme, "ERP", [4, 6, 5, 5, 3, 7, 5, 5], recent=6)  # steady
    weekly(acme, "CRM Software", [1, 2, 3, 2, 1, 2, 3, 2], recent=14)  # a spike
    weekly(acme, "Invoicing", [5, 5, 5], recent=0)  # busy before, quiet now: not one of its topics
    weekly(globex, "Data warehouse", [], recent=6)  # new, with enough signals
    weekly(globex, "Pricing", [], recent=4)  # new, too few
    # Initech: 6 this week; 40 more just before the baseline began, which would have been its usual.
    weekly(initech, "Security", [], recent=6)
    add(initech, "Security", [NOW - 8 * WEEK - WEEK - dt.timedelta(minutes=m) for m in range(1, 41)])
    # Umbrella: only signals in the future, and a topic only in signals older than every window.
    add(umbrella, "HR", [NOW + dt.timedelta(hours=h) for h in range(1, 21)])
    add(umbrella, "Payroll", [NOW - 10 * WEEK - dt.timedelta(hours=h) for h in range(30)])
    add(umbrella, "", [NOW - dt.timedelta(hours=h) for h in range(1, 10)])  # no topic
    return acme, globex, initech, umbrella


def test_a_spike_and_a_busy_new_topic_surge_a_steady_one_and_signals_outside_the_windows_do_not(spread):
    acme, globex, initech, umbrella = spread
    result = topic_surges_refresh(now=NOW)
    found = surges()
    assert set(found) == {
        ("Acme", "erp"),
        ("Acme", "crm software"),
        ("Globex", "data warehouse"),
        ("Globex", "pricing"),
        ("Initech", "security"),
    }  # Umbrella's future and too-old signals make no topic; a topic quiet this week is none either
    crm = found[("Acme", "crm software")]
    assert (crm.label, crm.recent_count, crm.baseline_mean, crm.z, crm.surging) == ("CRM Software", 14, 2.0, 12.0, True)
    assert crm.computed_at == NOW
    assert found[("Acme", "erp")].surging is False
    assert found[("Globex", "data warehouse")].surging is True
    assert found[("Globex", "pricing")].surging is False
    security = found[("Initech", "security")]
    assert (security.recent_count, security.baseline_mean, security.surging) == (6, 0.0, True)
    accounts = {a.name: a.surging_topics for a in Account.objects.all()}
    assert accounts == {
        "Acme": ["crm software"],
        "Globex": ["data warehouse"],
        "Initech": ["security"],
        "Umbrella": [],
    }
    assert result["summary"] == {"topics": 5, "surging": 3, "accounts_changed": 3, "removed": 0}
    assert surge_sentence(crm, RULES) == "CRM Software: 14 this week against 2 a week before (surging, z 12.0)"


def test_the_window_edges(db):
    account = AccountFactory(name="Edges")
    recent_start, baseline_start = RULES.bounds(NOW)
    add(account, "edge", [NOW] * 5)  # at now: recent
    add(account, "edge", [recent_start] * 8)  # at the recent window's start: the latest baseline week
    add(account, "edge", [baseline_start] * 50)  # at the baseline's start: outside
    add(account, "edge", [baseline_start + dt.timedelta(microseconds=1)] * 8)  # just inside: the oldest week
    topic_surges_refresh(now=NOW)
    edge = TopicSurge.objects.get()
    assert (edge.recent_count, edge.baseline_mean) == (5, 2.0)
    assert edge.baseline_std == pytest.approx(12**0.5)  # two weeks of 8, six of 0: mean 2, mean square 16


def test_only_accounts_whose_surging_topics_changed_are_queued_for_rescoring(spread):
    acme, globex, initech, umbrella = spread
    topic_surges_refresh(now=NOW)
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) == {acme.pk, globex.pk, initech.pk}
    PendingRescore.objects.all().delete()
    topic_surges_refresh(now=NOW + dt.timedelta(hours=1))  # nothing surges or stops surging
    assert not PendingRescore.objects.exists()
    assert ("Umbrella", "hr") in surges()  # its first signal once in the future is recent now: one, no surge
    # Three weeks on, nothing is recent any more: no topic, nothing surges, and those that did are queued again.
    result = topic_surges_refresh(now=NOW + 3 * WEEK)
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) == {acme.pk, globex.pk, initech.pk}
    assert all(a.surging_topics == [] for a in Account.objects.all())
    assert not TopicSurge.objects.exists()
    assert result["summary"] == {"topics": 0, "surging": 0, "accounts_changed": 3, "removed": 6}


def test_the_nightly_task_records_a_job(db):
    weekly(AccountFactory(), "CRM software", [1, 2], recent=7, now=timezone.now())
    weekly(AccountFactory(), "ERP", [3, 3, 3, 3, 3, 3, 3, 3], recent=3, now=timezone.now())
    topic_surges_task()
    job = Job.objects.get()
    assert (job.status, job.title, job.result["summary"]) == (
        Job.Status.SUCCEEDED,
        "Topic surges",
        {"topics": 2, "surging": 1, "accounts_changed": 1, "removed": 0},
    )
    topic_surges_task(job.pk)  # a finished job is not run again
    assert Job.objects.count() == 1


def test_an_admin_refreshes_topics_on_demand_and_a_rep_may_not(client, world, django_capture_on_commit_callbacks):
    weekly(world.north_account, "CRM software", [], recent=7, now=timezone.now())
    client.force_login(world.north_rep)
    assert client.post(reverse("topic-refresh")).status_code == 403
    assert not TopicSurge.objects.exists()
    client.force_login(world.admin)
    assert b"Refresh topic surges" in client.get(reverse("account-list")).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("topic-refresh"))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job-detail", args=[job.pk])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    world.north_account.refresh_from_db()
    assert world.north_account.surging_topics == ["crm software"]


# --- SQL and Python -------------------------------------------------------------------------------------------------


def random_signals(seed: int) -> None:
    rng = random.Random(seed)
    topics = ["CRM software", "crm Software", " ERP", "erp", "Data Warehouse", "Payroll", "security ", "Öl & Gas"]
    recent_start, baseline_start = RULES.bounds(NOW)
    edges = [NOW, recent_start, baseline_start, recent_start - 3 * WEEK, baseline_start + dt.timedelta(microseconds=1)]
    rows = []
    for n in range(40):
        account = AccountFactory(name=f"Account {n}")
        surge = rng.random() < 0.4
        for _ in range(rng.randint(0, 60)):
            days = rng.uniform(-3, 80)
            if surge and rng.random() < 0.5:
                days = rng.uniform(0, 7)
            at = rng.choice(edges) if rng.random() < 0.05 else NOW - dt.timedelta(days=days)
            rows.append(Signal(account=account, kind="web_visit", topic=rng.choice(topics), occurred_at=at))
    Signal.objects.bulk_create(rows)


@pytest.mark.postgres
@pytest.mark.parametrize("rules", [RULES, SurgeRules(window_days=3, baseline_windows=5, z_threshold=1.5,
                                                    std_floor=0.5, min_recent=2)])  # fmt: skip
def test_sql_and_python_agree(db, rules):
    require_postgres()
    random_signals(7)
    python, sql = python_surges(NOW, rules), sql_surges(NOW, rules)
    assert len(sql) > 40 and any(s.surging for s in sql) and not all(s.surging for s in sql)
    assert [(s.account_id, s.topic, s.label, s.recent_count, s.surging) for s in sql] == [
        (s.account_id, s.topic, s.label, s.recent_count, s.surging) for s in python
    ]
    for a, b in zip(sql, python, strict=True):
        assert (a.baseline_mean, a.baseline_std, a.z) == pytest.approx((b.baseline_mean, b.baseline_std, b.z))


def test_the_stored_surges_are_the_same_whichever_path_computed_them(db):
    """The refresh stores what `surges_computed` finds, on either database (PostgreSQL: the SQL; else: Python)."""
    random_signals(11)
    topic_surges_refresh(now=NOW)
    expected = python_surges(NOW, RULES)
    stored = {(s.account_id, s.topic): s for s in TopicSurge.objects.all()}
    assert len(stored) == len(expected)
    for s in expected:
        row = stored[(s.account_id, s.topic)]
        assert (row.label, row.recent_count, row.surging) == (s.label, s.recent_count, s.surging)
        assert row.z == pytest.approx(s.z)
    surging = {}
    for s in expected:
        if s.surging:
            surging.setdefault(s.account_id, []).append(s.topic)
    for account in Account.objects.all():
        assert account.surging_topics == sorted(surging.get(account.pk, []))
