"""An account's first tier is recorded: a TierChange from no tier ("Placed in Tier 3. ..."), written by both scoring
paths alike (the Python path everywhere, the SQL engine on PostgreSQL), shown first in its tier history, and never
counted as a move up or down by the movement matrix, the moves list or the tier movement KPI."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape
from rest_framework.test import APIClient

from accounts.models import Account
from insights.kpis import Period, kpi_compute
from segmentation import services
from segmentation.engine import Plan, Selection
from segmentation.engine.python import python_store
from segmentation.models import AccountScore, TierChange
from segmentation.tiers import PLACED
from tests.factories import AccountFactory, ICPFactory, ScoringModelFactory, SignalFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
LABELS = {"tier_1": "Tier 1", "tier_2": "Tier 2", "tier_3": "Tier 3", "recycle": "Recycle", "suppress": "Suppress"}
RECORD = ("account_id", "from_tier", "to_tier", "reason", "fit", "signal", "unified", "at")


def size_model(**kwargs):
    """Fit is the account's employee count (0-100); unified is 0.7 fit + 0.3 signal; customers are suppressed."""
    icp = ICPFactory(
        criteria=[
            {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": n, "points": n}
            for n in range(0, 101)
        ],
        exclusions=[{"attribute": "is_customer", "operator": "eq", "value": True}],
    )
    values = {"w_fit": 0.7, "w_signal": 0.3, "w_coverage": 0.0, "surge_delta": 10, "surge_window_days": 7, **kwargs}
    return ScoringModelFactory(icp=icp, **values)


def publish(model, capture, as_of=T0):
    with capture(execute=True):
        job = services.model_publish(model=model, user=None, as_of=as_of)
    job.refresh_from_db()
    assert job.status == job.Status.SUCCEEDED, job.error
    return job


def mixed_accounts(territory=None) -> dict[str, Account]:
    """Every kind of first placement: each tier, suppress, twins sharing their numbers (one reason worded for both),
    and surges on the first scoring (lifted one tier above the candidate) with the same fit but other signals."""
    sizes = {
        "top": (100, 3), "twin_2a": (96, 0), "twin_2b": (96, 0), "lifted_1": (72, 2), "lifted_2a": (60, 1),
        "lifted_2b": (60, 2), "lifted_2c": (60, 2), "twin_3a": (60, 0), "twin_3b": (60, 0), "customer": (45, 0), "twin_ra": (40, 0),
        "twin_rb": (40, 0), "empty": (0, 0),
    }  # fmt: skip
    accounts = {}
    for key, (size, meetings) in sizes.items():
        accounts[key] = AccountFactory(employee_count=size, territory=territory, is_customer=key == "customer")
        for hour in range(meetings):  # fresh meetings: a surge on the first scoring
            SignalFactory(account=accounts[key], kind="meeting", occurred_at=T0 - dt.timedelta(hours=hour + 1))
    # The same numbers now as lifted_2b (a signal of 30, capped), but a week ago it already had 14.7.
    SignalFactory(account=accounts["lifted_2c"], kind="meeting", occurred_at=T0 - dt.timedelta(days=8))
    return accounts


def records(**filters) -> list[tuple]:
    return sorted(TierChange.objects.filter(**filters).values_list(*RECORD))


def test_a_first_publish_places_every_account_once_with_its_reason(django_capture_on_commit_callbacks):
    accounts = mixed_accounts()
    publish(size_model(), django_capture_on_commit_callbacks)
    tiers = dict(AccountScore.objects.values_list("account_id", "tier"))
    placed = TierChange.objects.all()
    assert sorted(c.account_id for c in placed) == sorted(a.pk for a in accounts.values())  # one each
    for change in placed:
        assert (change.from_tier, change.to_tier, change.at) == (PLACED, tiers[change.account_id], T0)
    assert {c.to_tier for c in placed} == set(LABELS)
    reason = {key: TierChange.objects.get(account=account).reason for key, account in accounts.items()}
    assert reason["top"] == "Placed in Tier 1. Tier 1: unified 79 ≥ 75 and fit 100 ≥ 70."
    assert (
        reason["twin_2a"]
        == reason["twin_2b"]
        == (
            "Placed in Tier 2. Tier 2: unified 67.2 ≥ 55 and fit 96 ≥ 50; Tier 1 needs unified ≥ 75 and fit ≥ 70; "
            "unified is 67.2."
        )
    )
    assert reason["lifted_1"] == (
        "Placed in Tier 1: surging: signal 30 is 30 above its 7-day-old 0 (≥ 10), so one tier above Tier 2 until "
        "2026-06-15."
    )
    assert reason["lifted_2a"] == (
        "Placed in Tier 2: surging: signal 15 is 15 above its 7-day-old 0 (≥ 10), so one tier above Tier 3 until "
        "2026-06-15. Tier 1 needs unified ≥ 75 and fit ≥ 70; unified is 46.5 and fit is 60."
    )
    assert reason["lifted_2b"] == reason["lifted_2a"].replace("signal 15 is 15", "signal 30 is 30").replace(
        "unified is 46.5", "unified is 51"
    )  # the same fit, another signal: its own words
    assert reason["lifted_2c"] == reason["lifted_2b"].replace(
        "30 is 30 above its 7-day-old 0", "30 is 15.3 above its 7-day-old 14.7"
    )
    assert (
        reason["twin_3a"]
        == reason["twin_3b"]
        == (
            "Placed in Tier 3. Tier 3: unified 42 ≥ 35 and fit 60 ≥ 30; Tier 2 needs unified ≥ 55 and fit ≥ 50; "
            "unified is 42."
        )
    )
    assert reason["customer"] == "Placed in Suppress: an exclusion criterion matches."
    assert (
        reason["twin_ra"]
        == reason["twin_rb"]
        == (
            "Placed in Recycle. Recycle: unified 28 and fit 40 meet no tier's thresholds; Tier 3 needs unified ≥ 35 "
            "and fit ≥ 30; unified is 28."
        )
    )

    # The same rescore again: nothing is placed twice.
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(as_of=T0)
    assert TierChange.objects.count() == len(accounts)


def test_a_placement_keeps_the_scores_it_was_placed_with(django_capture_on_commit_callbacks):
    account = AccountFactory(employee_count=60)
    SignalFactory(account=account, kind="web_visit", occurred_at=T0 - dt.timedelta(days=30))
    publish(size_model(), django_capture_on_commit_callbacks)
    change, score = TierChange.objects.get(account=account), AccountScore.objects.get(account=account)
    assert (change.fit, change.signal, change.unified) == (score.fit, score.signal, score.unified)
    assert (change.to_tier, change.at) == (score.tier, score.tier_since)


def test_a_new_version_moves_accounts_but_places_none_again(django_capture_on_commit_callbacks):
    accounts = mixed_accounts()
    first = size_model()
    publish(first, django_capture_on_commit_callbacks)
    second = ScoringModelFactory(icp=first.icp, w_fit=1.0, w_signal=0.0, w_coverage=0.0)
    publish(second, django_capture_on_commit_callbacks, as_of=T0 + dt.timedelta(days=1))
    assert TierChange.objects.filter(from_tier=PLACED).count() == len(accounts)
    later = TierChange.objects.filter(at=T0 + dt.timedelta(days=1))
    assert later.exists() and not later.filter(from_tier=PLACED).exists()
    assert all("A new model version placed it" in c.reason for c in later)


def test_an_account_scored_on_its_own_is_placed_too(django_capture_on_commit_callbacks):
    publish(size_model(), django_capture_on_commit_callbacks)
    newcomer = AccountFactory(employee_count=90)  # created after the publish: the incremental rescore places it
    services.account_rescore(newcomer, as_of=T0 + dt.timedelta(hours=1))
    change = TierChange.objects.get(account=newcomer)
    assert (change.from_tier, change.to_tier, change.at) == (PLACED, "tier_2", T0 + dt.timedelta(hours=1))
    assert change.reason.startswith("Placed in Tier 2. Tier 2: unified 63 ≥ 55 and fit 90 ≥ 50;")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "thresholds",
    [
        {},
        {
            **{"tier1_enter": 66.6, "tier1_exit": 60, "tier1_min_fit": 72.5, "tier2_enter": 45.5, "tier2_exit": 40},
            **{"tier2_min_fit": 60, "tier3_enter": 28.1, "tier3_exit": 20},
        },
    ],
)
def test_the_sql_engine_and_the_python_path_record_the_same_placements(django_capture_on_commit_callbacks, thresholds):
    """The SQL engine's placements (worded in the statement, or streamed with the moves when a surge lifts them) equal
    the Python path's, field for field, on accounts covering every kind of placement and both sides of every
    threshold."""
    from django.db import connection, transaction

    from segmentation.engine.sql import sql_store
    from tests.conftest import require_postgres

    require_postgres()
    mixed_accounts()
    for size in range(0, 101, 3):
        AccountFactory(employee_count=size)
    model = size_model(**thresholds)
    publish(model, django_capture_on_commit_callbacks)  # the engine's own path: SQL on PostgreSQL
    assert connection.vendor == "postgresql"
    from_sql = records()
    assert len(from_sql) == Account.objects.count()

    plan = Plan.of(model.__class__.objects.get(pk=model.pk))
    for store in (python_store, sql_store):
        AccountScore.objects.all().delete()
        TierChange.objects.all().delete()
        with transaction.atomic():
            assert store(plan, Selection(), T0) == Account.objects.count()
        assert records() == from_sql, store.__name__


def test_placements_are_no_moves_for_the_matrix_the_moves_list_and_the_kpi(
    client, world, django_capture_on_commit_callbacks
):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    Account.objects.filter(pk=world.north_account.pk).update(employee_count=96)
    publish(size_model(), django_capture_on_commit_callbacks, as_of=now - dt.timedelta(days=20))
    placements = TierChange.objects.filter(from_tier=PLACED).count()
    assert placements == Account.objects.count() == 5
    Account.objects.filter(pk=world.north_account.pk).update(employee_count=10)
    services.account_rescore(world.north_account, as_of=now)  # one move: Tier 2 -> Recycle
    move = TierChange.objects.exclude(from_tier=PLACED).get()
    assert (move.from_tier, move.to_tier) == ("tier_2", "recycle")

    period = {"start": (now - dt.timedelta(days=30)).date().isoformat(), "end": now.date().isoformat()}
    client.force_login(world.admin)
    matrix = client.get(reverse("tier-movement"), period).context["matrix"]
    assert matrix["total"] == 1
    listed = client.get(reverse("tier-moves"), period).context["table"]
    assert [row.record.pk for row in listed.paginated_rows] == [move.pk]
    exported = b"".join(client.get(reverse("tier-moves-export"), period).streaming_content).decode()
    assert len(exported.strip().splitlines()) == 2  # the header and the one move

    kpi_period = Period(now.date() - dt.timedelta(days=30), now.date())
    movement = kpi_compute(key="tier_movement", user=world.admin, period=kpi_period)
    assert movement.total.n == 1
    assert [(r.key, r.n, r.extra["direction"]) for r in movement.rows] == [("tier_2>recycle", 1, "down")]


def test_the_account_page_and_api_show_the_placement_first_in_the_history(
    client, world, django_capture_on_commit_callbacks
):
    Account.objects.filter(pk=world.north_account.pk).update(employee_count=96)
    publish(size_model(), django_capture_on_commit_callbacks, as_of=T0)
    Account.objects.filter(pk=world.north_account.pk).update(employee_count=10)
    services.account_rescore(world.north_account, as_of=T0 + dt.timedelta(days=20))
    placement = TierChange.objects.get(account=world.north_account, from_tier=PLACED)

    client.force_login(world.north_rep)
    page = client.get(reverse("account-detail", args=[world.north_account.pk])).content.decode()
    history = page[page.index('id="tier-changes"') :]
    assert "No tier moves yet" not in page
    assert history.index("Down to Recycle") < history.index(escape(placement.reason))
    assert escape("Placed in Tier 2. Tier 2: unified 67.2 ≥ 55 and fit 96 ≥ 50;") in history

    api = APIClient()
    api.force_authenticate(world.north_rep)
    detail = api.get(f"/api/v1/accounts/{world.north_account.pk}/").json()
    assert [(h["from_tier"], h["to_tier"]) for h in detail["tier_history"]] == [("tier_2", "recycle"), ("", "tier_2")]


@pytest.mark.postgres
def test_postgresql_writes_every_stored_score_as_the_reasons_do():
    """A placement's reason gets its numbers from PostgreSQL (float8 as text); the Python path writes them with %g.
    The stored scores are tenths: every one of them reads the same both ways."""
    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SELECT k, (k::float8 / 10.0::float8)::text FROM generate_series(-2000, 2000) AS k")
        written = dict(cursor.fetchall())
    assert written == {k: f"{k / 10:g}" for k in range(-2000, 2001)}
