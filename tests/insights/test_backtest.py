"""Backtest: a version is scored beside the active one as of a past cutoff, from what was known then, and judged on
the deals closed afterwards. A draft that scores what truly predicts wins backtests better; nothing after the cutoff is
read; tier mix and MQA volume are counted as documented; only RevOps admins may run or read one."""

import datetime as dt
import random

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from sklearn.metrics import roc_auc_score

from accounts.models import Account, Contact, Opportunity, Signal
from core.models import Job
from insights.recalibration import backtest as backtest_module
from insights.recalibration.backtest import (
    CutoffError,
    backtest_compute,
    backtest_job_latest,
    backtest_job_start,
    default_cutoff,
    parse_cutoff,
)
from insights.tasks import backtest_task
from segmentation.models import ScoringModel

from ..factories import AccountFactory, ContactFactory, ICPFactory, OpportunityFactory, ScoringModelFactory

CUTOFF = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
INDUSTRIES = ["logistics", "retail", "software", "media", "energy"]
PLANTED = "logistics"


def version(*, criteria: list[dict], status=ScoringModel.Status.DRAFT, exclusions=(), **fields) -> ScoringModel:
    """A version scoring on `criteria` (a draft reads its ICP's; an active one its frozen copy)."""
    icp = ICPFactory(criteria=criteria, exclusions=list(exclusions))
    frozen = {"criteria": criteria, "exclusions": list(exclusions)} if status != ScoringModel.Status.DRAFT else {}
    return ScoringModelFactory(icp=icp, status=status, **frozen, **fields)


INDUSTRY_DRAFT = [{"group": "Industry", "attribute": "industry", "operator": "eq", "value": PLANTED, "points": 100}]
COUNTRY_ACTIVE = [{"group": "Geo", "attribute": "country", "operator": "eq", "value": "Germany", "points": 100}]


def generate(*, accounts: int, seed: int) -> dict[int, bool]:
    """Accounts spread over INDUSTRIES with a random country. After the cutoff each has one closed deal, won with
    probability 0.7 in the planted industry and 0.15 elsewhere; before the cutoff (and on the cutoff's own day, which
    a close date cannot place before or after it) each has a deal of the opposite outcome, which must not count.
    Returns {account id: won after the cutoff}."""
    rng = random.Random(seed)
    Account.objects.bulk_create(
        Account(
            name=f"Backtest {i}",
            external_id=f"BT-{i}",
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            country=rng.choice(["United States", "Germany"]),
        )
        for i in range(accounts)
    )
    deals, truth = [], {}
    for n, account in enumerate(Account.objects.filter(external_id__startswith="BT-").order_by("pk")):
        won = rng.random() < (0.7 if account.industry == PLANTED else 0.15)
        truth[account.pk] = won
        after = CUTOFF.date() + dt.timedelta(days=rng.randint(1, 180))
        before = CUTOFF.date() - dt.timedelta(days=0 if n % 10 == 0 else rng.randint(1, 180))  # 0: the cutoff's day
        for day, outcome in ((after, won), (before, not won)):
            deals.append(Opportunity(account=account, stage="Closed", is_closed=True, is_won=outcome, closed_on=day))
    Opportunity.objects.bulk_create(deals)
    return truth


# --- The comparison ------------------------------------------------------------------------------------------


def test_a_draft_scoring_the_attribute_that_predicts_wins_backtests_better_than_the_active_model(db):
    truth = generate(accounts=300, seed=11)
    active = version(criteria=COUNTRY_ACTIVE, status=ScoringModel.Status.ACTIVE)
    draft = version(criteria=INDUSTRY_DRAFT)

    report = backtest_compute(model=draft, cutoff=CUTOFF)

    assert report["verdict"] == "compared", report["message"]
    wins = sum(truth.values())
    assert (report["outcomes"], report["won"], report["lost"]) == (300, wins, 300 - wins)  # only deals after it
    assert report["cutoff_date"] == "2025-01-01" and report["cutoff_chosen"] is True
    drafted, current = report["models"]
    assert (drafted["model_id"], drafted["role"], current["model_id"], current["role"]) == (
        draft.pk,
        "reviewed",
        active.pk,
        "active",
    )
    # The draft's unified score is 60 in the planted industry and 0 elsewhere: its AUC is that of the industry itself.
    accounts = dict(Account.objects.filter(pk__in=truth).values_list("pk", "industry"))
    countries = dict(Account.objects.filter(pk__in=truth).values_list("pk", "country"))
    ids = sorted(truth)
    won = [truth[i] for i in ids]
    assert drafted["auc"] == round(roc_auc_score(won, [accounts[i] == PLANTED for i in ids]), 4)
    assert current["auc"] == round(roc_auc_score(won, [countries[i] == "Germany" for i in ids]), 4)
    assert drafted["auc"] > current["auc"] + 0.15
    assert 0.5 < drafted["auc_low"] < drafted["auc"] < drafted["auc_high"]
    assert current["auc_low"] < 0.5 < current["auc_high"]
    assert "Draft v" in report["comparison"] and "do not overlap" in report["comparison"]
    # Same accounts on both sides: every outcome account sits in one tier; five quintiles of 60.
    for side in report["models"]:
        assert sum(row["accounts"] for row in side["win_rates"]) == 300
        assert sum(row["wins"] for row in side["win_rates"]) == wins
        assert [row["accounts"] for row in side["lift"]] == [60] * 5
        for row in side["win_rates"]:
            if row["accounts"]:
                assert row["low"] <= row["win_rate"] <= row["high"]
    assert drafted["lift"][0]["lift"] > 2 > 1 > drafted["lift"][-1]["lift"]
    assert report["no_history"]["attributes"] == ["industry", "country"]
    assert "Industry and Country are read as they are today" in report["no_history"]["sentence"]


def test_too_few_outcomes_gives_a_clear_verdict_and_no_auc(db):
    draft = version(criteria=INDUSTRY_DRAFT)
    for won in [True] * 5 + [False] * 30:
        OpportunityFactory(is_won=won, closed_on=CUTOFF.date() + dt.timedelta(days=3))

    report = backtest_compute(model=draft, cutoff=CUTOFF)

    assert report["verdict"] == "too_few_outcomes"
    assert report["message"].startswith("Too few outcomes to judge the scores: 35 accounts had a deal closed after ")
    assert "5 won and 30 lost" in report["message"] and "at least 20 won and 20 lost" in report["message"]
    (side,) = report["models"]  # no active version: the draft alone
    assert side["auc"] is None and side["lift"] == [] and report["comparison"] == ""
    assert sum(row["accounts"] for row in side["win_rates"]) == 35


def test_the_default_cutoff_leaves_the_latest_30_percent_of_closed_deals_after_it(db):
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=10 * n) for n in range(10)]
    for day in days:
        OpportunityFactory(closed_on=day)
    OpportunityFactory(closed_on=None)  # no close date: cannot be placed in time
    OpportunityFactory(is_closed=False, is_won=False, closed_on=dt.date(2024, 12, 1))  # still open

    cutoff = default_cutoff()

    assert cutoff == dt.datetime.combine(days[7] - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    report = backtest_compute(model=version(criteria=INDUSTRY_DRAFT))
    assert report["cutoff"] == cutoff.isoformat() and report["cutoff_chosen"] is False
    assert report["outcomes"] == 3


# --- Only what was known at the cutoff --------------------------------------------------------------------------


def test_signals_at_or_after_the_cutoff_are_not_read(db):
    """Won accounts met before the cutoff; lost ones only at and after it (and long before, beyond the lookback). Read
    as of the cutoff the signals rank the won accounts first; had the later ones been read, they would not."""
    draft = version(
        criteria=[],
        w_fit=0.0,
        w_signal=0.5,
        w_coverage=0.5,
        required_personas=["champion"],
        signal_rules=[{"kind": "meeting", "points": 50, "half_life_days": 30, "max_points": 100}],
    )
    won_accounts = [AccountFactory() for _ in range(25)]
    lost_accounts = [AccountFactory() for _ in range(25)]
    for account in won_accounts:
        OpportunityFactory(account=account, is_won=True, closed_on=dt.date(2025, 2, 1))
        champion = ContactFactory(account=account, persona=Contact.Persona.CHAMPION)
        Signal.objects.create(
            account=account, contact=champion, kind="meeting", occurred_at=CUTOFF - dt.timedelta(days=10)
        )
    later = []
    for account in lost_accounts:
        OpportunityFactory(account=account, is_won=False, is_closed=True, closed_on=dt.date(2025, 2, 1))
        champion = ContactFactory(account=account, persona=Contact.Persona.CHAMPION)
        Signal.objects.create(account=account, kind="meeting", occurred_at=CUTOFF - dt.timedelta(days=400))
        for moment in (CUTOFF, CUTOFF + dt.timedelta(days=3)):  # at the cutoff itself, and after
            later.append(
                Signal.objects.create(account=account, contact=champion, kind="meeting", occurred_at=moment).pk
            )

    report = backtest_compute(model=draft, cutoff=CUTOFF)

    assert report["signals_read"] == 25  # the won accounts' meetings; not the 50 at or after it, nor the old 25
    (side,) = report["models"]
    assert side["auc"] == 1.0
    Signal.objects.filter(pk__in=later).delete()
    assert backtest_compute(model=draft, cutoff=CUTOFF)["models"] == report["models"]


# --- Tier mix and MQA volume ------------------------------------------------------------------------------------


def test_tier_mix_and_mqa_volume_are_counted_from_the_candidate_tiers_as_of_the_cutoff(db):
    """Fit 100 for software; signal from one signal each (slow decay): unified = (fit + signal) / 2. Default tiers:
    Tier 1 >= 75 (fit >= 70), Tier 2 >= 55 (fit >= 50), Tier 3 >= 35 (fit >= 30); MQA: Tier 1 or 2 with signal >= 30."""
    model = version(
        criteria=[{"group": "Industry", "attribute": "industry", "operator": "eq", "value": "software", "points": 100}],
        exclusions=[{"attribute": "is_customer", "operator": "eq", "value": True}],
        w_fit=0.5,
        w_signal=0.5,
        w_coverage=0.0,
        signal_rules=[
            {"kind": kind, "points": points, "half_life_days": 10_000, "max_points": 100}
            for kind, points in (("meeting", 60), ("email_click", 30), ("web_visit", 20))
        ],
    )
    plan = {  # name: (industry, customer, signal kind or None, tier, MQA)
        "A": ("software", False, "meeting", "tier_1", True),  # unified 80, signal 60
        "F": ("software", False, "email_click", "tier_2", True),  # unified 65, signal 30: the minimum counts
        "B": ("software", False, "web_visit", "tier_2", False),  # unified 60, signal 20: too little signal
        "G": ("software", False, None, "tier_3", False),  # unified 50
        "C": ("retail", False, "meeting", "recycle", False),  # unified 30, fit 0: signal cannot lift it
        "D": ("retail", False, None, "recycle", False),
        "E": ("software", True, "meeting", "suppress", False),  # excluded: a customer
    }
    for name, (industry, customer, kind, _, _) in plan.items():
        account = AccountFactory(name=name, industry=industry, is_customer=customer)
        if kind:
            Signal.objects.create(account=account, kind=kind, occurred_at=CUTOFF - dt.timedelta(days=1))
        # A meeting after the cutoff, on every account: not known then, so it changes no tier.
        Signal.objects.create(account=account, kind="meeting", occurred_at=CUTOFF + dt.timedelta(days=1))

    (side,) = backtest_compute(model=model, cutoff=CUTOFF)["models"]

    expected = {tier: sum(1 for p in plan.values() if p[3] == tier) for tier in ("tier_1", "tier_2", "tier_3")}
    expected |= {"recycle": 2, "suppress": 1}
    assert {row["tier"]: row["accounts"] for row in side["tier_mix"]} == expected
    assert {row["tier"]: row["share"] for row in side["tier_mix"]} == {
        tier: round(100 * n / 7, 2) for tier, n in expected.items()
    }
    assert side["accounts"] == 7
    assert (side["mqas"], side["mqa_share"]) == (2, round(100 * 2 / 7, 2))
    assert side["mqa_tiers"] == ["tier_1", "tier_2"] and side["mqa_signal_min"] == 30


# --- The job ----------------------------------------------------------------------------------------------------


def test_the_job_reports_progress_per_chunk_and_stores_the_report(
    db, world, monkeypatch, django_capture_on_commit_callbacks
):
    generate(accounts=60, seed=5)
    draft = version(criteria=INDUSTRY_DRAFT)
    monkeypatch.setattr(backtest_module, "ACCOUNT_CHUNK", 20)
    seen = []
    real = backtest_module.job_progress
    monkeypatch.setattr(backtest_module, "job_progress", lambda **kw: (seen.append(kw["done"]), real(**kw)))

    with django_capture_on_commit_callbacks(execute=True):
        job = backtest_job_start(model=draft, user=world.admin, cutoff=CUTOFF)

    job.refresh_from_db()
    total = Account.objects.count()  # the generated 60 and the world's 5
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert seen == [20, 40, 60, 65] and (job.done, job.total) == (total, total)
    assert job.result == backtest_compute(model=draft, cutoff=CUTOFF)
    assert job.params == {"model_id": draft.pk, "version": draft.version, "cutoff": CUTOFF.isoformat()}
    assert backtest_job_latest(draft) == job
    backtest_task(job.pk)  # a retried task leaves a succeeded job alone
    assert Job.objects.get(pk=job.pk).finished_at == job.finished_at


def test_a_deleted_draft_fails_its_job_with_the_reason(db, world):
    draft = version(criteria=INDUSTRY_DRAFT)
    job = backtest_job_start(model=draft, user=world.admin)
    draft.delete()
    backtest_task(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no longer exists" in job.error


# --- The cutoff typed ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("yesterday", "Write the cutoff as a date, YYYY-MM-DD (e.g. 2024-06-30); “yesterday” is not one."),
        ("2024-02-30", "“2024-02-30” is not one."),
        ("20240630", "“20240630” is not one."),
        ("2024-W26-1", "“2024-W26-1” is not one."),
        ("2031-01-01", "The cutoff must be in the past: 2031-01-01 is after today (2030-06-01)"),
    ],
)
def test_a_bad_cutoff_is_refused_in_words(typed, message):
    with pytest.raises(CutoffError) as refused:
        parse_cutoff(typed, today=dt.date(2030, 6, 1))
    assert message in str(refused.value)


def test_a_cutoff_date_means_midnight_utc_and_nothing_typed_means_the_default():
    assert parse_cutoff(" 2024-06-30 ") == dt.datetime(2024, 6, 30, tzinfo=dt.UTC)
    assert parse_cutoff("") is None and parse_cutoff(None) is None


# --- The API ------------------------------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_admin_starts_a_backtest_and_reads_its_report(db, world, django_capture_on_commit_callbacks):
    generate(accounts=120, seed=9)
    version(criteria=COUNTRY_ACTIVE, status=ScoringModel.Status.ACTIVE)
    draft = version(criteria=INDUSTRY_DRAFT)
    api = api_for(world.admin)

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/v1/backtests/", {"model": draft.pk, "cutoff": "2025-01-01"}, format="json")

    assert started.status_code == 202, started.content
    body = started.json()
    assert body["status"] == "queued" and body["url"] == f"http://testserver/api/v1/backtests/{body['id']}/"
    assert (body["model"], body["cutoff"]) == (draft.pk, CUTOFF.isoformat())
    read = api.get(body["url"])
    assert read.status_code == 200
    data = read.json()
    assert (data["status"], data["percent"], data["done"], data["total"]) == ("succeeded", 100, 125, 125)
    assert data["report"] == Job.objects.get(pk=body["id"]).result
    assert data["report"]["cutoff_date"] == "2025-01-01" and len(data["report"]["models"]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        default = api.post("/api/v1/backtests/", {"model": draft.pk}, format="json")
    assert default.status_code == 202 and default.json()["cutoff"] is None
    assert api.get(default.json()["url"]).json()["report"]["cutoff"] == default_cutoff().isoformat()


@pytest.mark.parametrize("who", ["north_rep", "manager"])
def test_a_rep_or_a_manager_may_not_run_or_read_a_backtest(db, world, who):
    draft = version(criteria=INDUSTRY_DRAFT)
    job = backtest_job_start(model=draft, user=world.admin)
    api = api_for(getattr(world, who))
    refusal = {"detail": "Only RevOps admins may run or read backtests of scoring models."}

    started = api.post("/api/v1/backtests/", {"model": draft.pk}, format="json")
    assert (started.status_code, started.json()) == (403, refusal)
    read = api.get(f"/api/v1/backtests/{job.pk}/")
    assert (read.status_code, read.json()) == (403, refusal)
    assert Job.objects.filter(kind=Job.Kind.BACKTEST).count() == 1


def test_a_user_without_a_role_is_told_so(db, world):
    response = api_for(world.outsider).get("/api/v1/backtests/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Your account has no role yet")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"model": 999_999}, "model", "No scoring model version has the id 999999."),
        ({"cutoff": "2025-01-01"}, "model", "This field is required."),
        ({"model": "draft"}, "model", "A valid integer is required."),
        (
            {"model": "DRAFT", "cutoff": "next week"},
            "cutoff",
            "Write the cutoff as a date, YYYY-MM-DD (e.g. 2024-06-30); “next week”",
        ),
        (
            {"model": "DRAFT", "cutoff": "2999-01-01"},
            "cutoff",
            "The cutoff must be in the past: 2999-01-01 is after today",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(db, world, body, field, message):
    draft = version(criteria=INDUSTRY_DRAFT)
    body = {key: draft.pk if value == "DRAFT" else value for key, value in body.items()}
    response = api_for(world.admin).post("/api/v1/backtests/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Job.objects.filter(kind=Job.Kind.BACKTEST).exists()


def test_another_kind_of_job_is_not_a_backtest(db, world):
    job = Job.objects.create(kind=Job.Kind.PREVIEW, created_by=world.admin)
    assert api_for(world.admin).get(f"/api/v1/backtests/{job.pk}/").status_code == 404


# --- The page -----------------------------------------------------------------------------------------------------


def test_the_version_page_runs_a_backtest_and_shows_it_beside_the_active_version(
    client, world, django_capture_on_commit_callbacks
):
    generate(accounts=150, seed=13)
    version(criteria=COUNTRY_ACTIVE, status=ScoringModel.Status.ACTIVE)
    draft = version(criteria=INDUSTRY_DRAFT)
    client.force_login(world.admin)
    page = reverse("model-detail", args=[draft.pk])
    shown = client.get(page).content.decode()
    assert "Run backtest" in shown and f'Left empty: <strong id="backtest-default">{default_cutoff():%Y-%m-%d}' in shown

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-backtest", args=[draft.pk]), {"cutoff": "2025-01-01"})

    assert response.status_code == 302 and response["Location"] == f"{page}#backtest"
    job = backtest_job_latest(draft)
    shown = client.get(page).content.decode()
    drafted, current = job.result["models"]
    assert f'<th scope="col" class="text-end">Draft v{draft.version} (this version)</th>' in shown
    assert f"{drafted['auc']:.3f} ({drafted['auc_low']:.3f}–{drafted['auc_high']:.3f})" in shown
    assert f"{current['auc']:.3f} ({current['auc_low']:.3f}–{current['auc_high']:.3f})" in shown
    assert job.result["no_history"]["sentence"] in shown


def test_a_bad_cutoff_on_the_page_is_shown_with_what_was_typed(client, world):
    draft = version(criteria=INDUSTRY_DRAFT)
    client.force_login(world.admin)
    response = client.post(reverse("model-backtest", args=[draft.pk]), {"cutoff": "soon"}, follow=True)
    shown = response.content.decode()
    assert 'value="soon"' in shown and "is-invalid" in shown
    assert "Write the cutoff as a date, YYYY-MM-DD (e.g. 2024-06-30); “soon” is not one." in shown
    assert not Job.objects.filter(kind=Job.Kind.BACKTEST).exists()


@pytest.mark.parametrize("who", ["north_rep", "manager"])
def test_a_rep_or_a_manager_may_not_run_a_backtest_from_the_page(client, world, who):
    draft = version(criteria=INDUSTRY_DRAFT)
    client.force_login(getattr(world, who))
    response = client.post(reverse("model-backtest", args=[draft.pk]), {"cutoff": ""})
    assert response.status_code == 403
    assert client.get(reverse("model-detail", args=[draft.pk])).status_code == 403
    assert not Job.objects.filter(kind=Job.Kind.BACKTEST).exists()
