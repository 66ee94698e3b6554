"""Recalibration: a win model on closed deals finds a planted effect, says so when there is none, and proposes a
draft only then; its page is for admins, and its tables export to CSV."""

import csv
import datetime as dt
import io
import random

import numpy as np
import pytest
from django.urls import reverse
from sklearn.metrics import roc_auc_score

from accounts.models import Account, Opportunity, Signal
from core.models import Job
from insights.recalibration import (
    auc_interval,
    band_criteria,
    closed_deals,
    lift_table,
    readable,
    recalibration_job_latest,
    recalibration_job_start,
    recalibration_run,
    signal_points,
    verdict_for,
)
from segmentation.models import ICP, ScoringModel
from segmentation.scoring import SignalRule

from ..factories import AccountScoreFactory, ICPFactory, ScoringModelFactory

INDUSTRIES = ["logistics", "retail", "software", "media", "energy"]
PLANTED = "logistics"
COUNTRIES = ["United States", "Germany", "France"]


def generate_deals(*, accounts: int, deals_each: int, seed: int, win_probability) -> dict[int, float]:
    """Accounts spread evenly over INDUSTRIES with noise attributes (size, country, founding year, revenue), each with
    closed deals won with `win_probability(account)`. Returns {deal id: its true win probability}."""
    rng = random.Random(seed)
    rows = [
        Account(
            name=f"Planted {i}",
            external_id=f"PL-{i}",
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            employee_count=rng.randint(10, 20_000),
            annual_revenue=rng.randint(1, 5_000) * 100_000,
            country=rng.choice(COUNTRIES),
            year_founded=rng.randint(1950, 2022),
        )
        for i in range(accounts)
    ]
    Account.objects.bulk_create(rows)
    created = list(Account.objects.filter(external_id__startswith="PL-").order_by("pk"))
    deals, truth = [], []
    start = dt.date(2024, 1, 1)
    for account in created:
        p = win_probability(account)
        for _ in range(deals_each):
            won = rng.random() < p
            deals.append(
                Opportunity(
                    account=account,
                    stage="Won" if won else "Lost",
                    is_closed=True,
                    is_won=won,
                    closed_on=start + dt.timedelta(days=rng.randrange(365)),
                )
            )
            truth.append(p)
    Opportunity.objects.bulk_create(deals, batch_size=2000)
    ids = Opportunity.objects.filter(account__external_id__startswith="PL-").order_by("pk").values_list("pk", flat=True)
    return dict(zip(ids, truth, strict=True))


def planted(account: Account) -> float:
    return 0.5 if account.industry == PLANTED else 0.25


@pytest.fixture
def active():
    """An active version scoring on the factory ICP (industry, size, country; excludes customers)."""
    icp = ICPFactory()
    return ScoringModelFactory(
        icp=icp, status=ScoringModel.Status.ACTIVE, criteria=icp.criteria, exclusions=icp.exclusions
    )


# --- The analysis ---------------------------------------------------------------------------------------------


def test_a_planted_industry_is_found_and_proposed(world, active):
    truth = generate_deals(accounts=2500, deals_each=4, seed=3, win_probability=planted)
    job = recalibration_job_start(user=world.admin)  # transaction.on_commit never fires inside a test transaction
    result = recalibration_run(user=world.admin, job=job)
    report = result.report

    assert report["verdict"] == "proposal", report["message"]
    top = report["ranking"][0]
    assert (top["kind"], top["criterion"]["attribute"], top["criterion"]["operator"], top["criterion"]["value"]) == (
        "criterion",
        "industry",
        "eq",
        PLANTED,
    )
    assert top["meaningful"] and top["odds_ratio"] > 2  # true odds ratio 3 (1:1 vs 1:3)
    # The AUC on the held-out deals is close to what the true probabilities achieve on the same deals.
    test_ids = [result.deal_ids[i] for i in result.test_rows]
    won = dict(Opportunity.objects.filter(pk__in=test_ids).values_list("pk", "is_won"))
    oracle = roc_auc_score([won[i] for i in test_ids], [truth[i] for i in test_ids])
    assert len(test_ids) == 3000
    assert abs(report["auc"] - oracle) <= 0.02, (report["auc"], oracle)
    print(f"\nPlanted: AUC {report['auc']} ({report['auc_low']}-{report['auc_high']}), oracle AUC {oracle:.4f}")
    assert 0.5 < report["auc_low"] < report["auc"] < report["auc_high"] and report["auc"] >= 0.55
    assert report["lift"][0]["lift"] > 1 > report["lift"][-1]["lift"]
    assert sum(row["deals"] for row in report["lift"]) == 3000
    assert report["calibration"] and all(0 <= p["observed"] <= 100 for p in report["calibration"])

    # The draft: a copy of the active version, with a new ICP led by the planted industry; nothing published.
    draft = result.draft
    assert draft.is_draft and draft.based_on == active
    assert report["proposal"]["model_id"] == draft.pk
    best = max(draft.icp.criteria, key=lambda c: c["points"])
    assert (best["attribute"], best["operator"], best["value"], best["points"], best["group"]) == (
        "industry",
        "eq",
        PLANTED,
        100,
        "Industry",
    )
    assert draft.icp.exclusions == active.exclusions
    assert draft.icp.name.startswith("Recalibrated ") and draft.icp.name.endswith(f"(from {active.icp.name})")
    assert f"AUC {report['auc']:.3f}" in draft.notes and "10,000 closed deals" in draft.notes
    active.refresh_from_db()
    assert active.status == ScoringModel.Status.ACTIVE
    assert list(ScoringModel.objects.filter(status=ScoringModel.Status.ACTIVE)) == [active]

    # A retried job reuses its draft instead of proposing twice.
    again = recalibration_run(user=world.admin, job=job)
    assert again.draft.pk == draft.pk
    assert ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).count() == 1


def test_too_little_data_proposes_nothing(world, active):
    generate_deals(accounts=10, deals_each=5, seed=1, win_probability=planted)
    report = recalibration_run(user=world.admin).report
    assert report["verdict"] == "too_little_data"
    assert "at least 200 closed deals" in report["message"] and "there are 50" in report["message"]
    assert report["auc"] is None and report["proposal"] is None
    assert not ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).exists()


def test_random_outcomes_have_no_signal(world, active):
    generate_deals(accounts=1000, deals_each=2, seed=5, win_probability=lambda account: 0.3)
    result = recalibration_run(user=world.admin)
    report = result.report
    assert report["verdict"] == "no_signal", report["message"]
    assert report["auc_low"] <= 0.5 and "do not predict wins" in report["message"]
    assert result.draft is None and report["proposal"] is None
    assert not ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).exists()
    assert ICP.objects.count() == 1


def test_without_an_active_model_it_proposes_from_scratch(world):
    generate_deals(accounts=1500, deals_each=4, seed=8, win_probability=planted)
    result = recalibration_run(user=world.admin)
    assert result.report["verdict"] == "proposal", result.report["message"]
    assert result.report["active_model"] is None
    draft = result.draft
    assert draft.is_draft and draft.based_on is None and draft.icp.exclusions == []
    assert draft.signal_rules and draft.required_personas  # the standard starting point


def test_the_maven_dataset_has_no_real_signal(db, django_capture_on_commit_callbacks):
    from demo.loader import load_maven, place_demo_accounts
    from demo.scoring import demo_scoring

    load_maven()
    place_demo_accounts()
    with django_capture_on_commit_callbacks(execute=True):  # the demo model's first rescore
        demo_scoring(out=lambda *_: None)
    result = recalibration_run(user=None)
    report = result.report
    assert report["deals"] == Opportunity.objects.filter(is_closed=True).count() == 6711
    assert sum(row["deals"] for row in report["score_bands"]) == 6711
    assert "Unscored" not in [row["band"] for row in report["score_bands"]]
    assert report["verdict"] == "no_signal", report["message"]
    assert report["auc_low"] < 0.5 < report["auc_high"]  # not even better than a coin toss
    assert result.draft is None
    assert not ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).exists()
    bands = [(row["band"], row["deals"], row["win_rate"]) for row in report["score_bands"] if row["deals"]]
    print(f"\nMaven: AUC {report['auc']} ({report['auc_low']}-{report['auc_high']}); score bands {bands}")


# --- Pieces --------------------------------------------------------------------------------------------------


def test_signals_count_only_before_the_close_date(world):
    account = world.north_account
    Opportunity.objects.create(account=account, stage="Won", is_closed=True, is_won=True, closed_on=dt.date(2024, 3, 1))
    close = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    for days, ext in ((-14, "a"), (-1, "b"), (0, "on the day"), (3, "after"), (-400, "too old")):
        Signal.objects.create(
            account=account, kind="meeting", occurred_at=close + dt.timedelta(days=days), external_id=ext
        )
    rule = SignalRule(kind="meeting", points=10, half_life_days=14, max_points=100)
    points = signal_points([rule], 365.0, closed_deals())
    assert points[0, 0] == pytest.approx(10 * 0.5 + 10 * 0.5 ** (1 / 14))


def test_bands_are_readable_and_cover_every_value():
    values = list(range(10, 5000, 7))
    bands = band_criteria("employee_count", values)
    assert [(b["operator"], b["value"]) for b in bands] == [
        ("lte", 1299),
        ("between", [1300, 2499]),
        ("between", [2500, 3699]),
        ("gte", 3700),
    ]
    assert {b["group"] for b in bands} == {"Employees"}
    assert readable(251_410_000.0) == 250_000_000 and readable(1987.0, step=5) == 1985
    assert band_criteria("year_founded", [2000] * 50) == []


def test_the_verdict_rule():
    assert verdict_for(deals=199, wins=100) == "too_little_data"
    assert verdict_for(deals=1000, wins=39) == "too_little_data"
    assert verdict_for(deals=1000, wins=961) == "too_little_data"  # 39 lost
    assert verdict_for(deals=1000, wins=300, auc=0.58, auc_low=0.49) == "no_signal"  # may be a coin toss
    assert verdict_for(deals=90_000, wins=30_000, auc=0.53, auc_low=0.52) == "no_signal"  # real but too weak
    assert verdict_for(deals=1000, wins=300, auc=0.6, auc_low=0.51) == "proposal"


def test_auc_interval_and_lift():
    low, high = auc_interval(0.5, 300, 700)
    assert low < 0.5 < high and high - low == pytest.approx(2 * 1.96 * 0.0199, abs=0.002)
    won = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    predicted = np.linspace(0.9, 0.0, 10)
    rows = lift_table(won, predicted)
    assert [r["label"] for r in rows] == ["Top 20%", "20-40%", "40-60%", "60-80%", "Bottom 20%"]
    assert [r["wins"] for r in rows] == [2, 1, 0, 0, 0] and rows[0]["lift"] == pytest.approx(1.0 / 0.3, abs=0.01)


# --- Pages ---------------------------------------------------------------------------------------------------


def _read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_admin_runs_it_and_reads_the_report(client, world, active, django_capture_on_commit_callbacks):
    generate_deals(accounts=1500, deals_each=4, seed=3, win_probability=planted)
    AccountScoreFactory(account=Account.objects.filter(industry=PLANTED).first(), model=active, unified=85.0)
    client.force_login(world.admin)
    empty = client.get(reverse("recalibration"))
    assert empty.status_code == 200 and "No recalibration yet" in empty.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("recalibration-run"))
    assert response.status_code == 302 and response.url == reverse("recalibration")
    job = recalibration_job_latest()
    assert job.kind == Job.Kind.RECALIBRATE and job.status == Job.Status.SUCCEEDED, job.error
    assert job.done == job.total == 4 and job.result["summary"]["verdict"] == "New points proposed"

    page = client.get(reverse("recalibration")).content.decode()
    draft = ScoringModel.objects.get(status=ScoringModel.Status.DRAFT)
    assert "New points proposed" in page and f"AUC {job.result['auc']:.3f}" in page
    assert reverse("model-detail", args=[draft.pk]) in page and reverse("model-preview", args=[draft.pk]) in page
    assert 'data-chart="calibration-chart"' in page and 'id="calibration-chart"' in page
    assert "<td>Industry is Logistics</td>" in page and "80-100" in page
    assert "style=" not in page and "<script>" not in page  # the CSP: no inline style or script
    assert reverse("recalibration") in client.get(reverse("scoring-index")).content.decode()

    ranking = _read_csv(client.get(reverse("recalibration-ranking-export")))
    assert ranking[0][:3] == ["rank", "feature", "kind"] and ranking[0][-1] == "proposed"
    assert ranking[1][:2] == ["1", "Industry is Logistics"] and len(ranking) - 1 == len(job.result["ranking"])
    lift = _read_csv(client.get(reverse("recalibration-lift-export")))
    assert lift[0] == ["band", "label", "deals", "wins", "win_rate_pct", "mean_predicted_pct", "lift"]
    assert [row[1] for row in lift[1:]] == ["Top 20%", "20-40%", "40-60%", "60-80%", "Bottom 20%"]
    assert sum(int(row[2]) for row in lift[1:]) == job.result["test"]["deals"]
    bands = _read_csv(client.get(reverse("recalibration-score-band-export")))
    assert bands[0][0] == "score_band" and bands[1][:3] == ["80-100", "4", bands[1][2]]


def test_the_page_says_when_there_is_too_little_data(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("recalibration-run"))
    page = client.get(reverse("recalibration")).content.decode()
    assert "Too little data" in page and "there are 0" in page


@pytest.mark.parametrize("name", ["recalibration", "recalibration-ranking-export", "recalibration-lift-export"])
def test_only_admins_see_it(client, world, name):
    url = reverse(name)
    for user in (world.rep, world.manager, world.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403, user
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_only_admins_start_it(client, world):
    for user in (world.rep, world.manager, world.outsider):
        client.force_login(user)
        assert client.post(reverse("recalibration-run")).status_code == 403
    client.force_login(world.admin)
    assert client.get(reverse("recalibration-run")).status_code == 405  # no state change by GET
    assert not Job.objects.filter(kind=Job.Kind.RECALIBRATE).exists()
