"""Recalibration: a regularised win model on everything the closed deals' accounts carry finds planted effects
(free-form attributes included), says so when there is none, and proposes a complete points model that ranks as well
as the regression, with thresholds at the target mix; once per state of the data. Its page is for admins, and its
tables export to CSV."""

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
    recalibration_run,
    verdict_for,
)
from insights.recalibration.features import (
    SignalHistory,
    criteria_definitions,
    decayed_sums,
    moments_of,
)
from insights.recalibration.planted import planted_create
from insights.recalibration.proposal import PointsModel, apply_floor, thresholds_for_mix, unified_scores
from segmentation.models import ICP, AccountScore, ScoringModel
from segmentation.services import model_publish

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


MIX = {"tier_1": "10", "tier_2": "20", "tier_3": "30", "recycle": "40", "as_of": "engaged"}


@pytest.fixture
def active():
    """An active version scoring on the factory ICP (industry, size, country; excludes customers)."""
    icp = ICPFactory()
    return ScoringModelFactory(
        icp=icp, status=ScoringModel.Status.ACTIVE, criteria=icp.criteria, exclusions=icp.exclusions
    )


# --- The analysis ---------------------------------------------------------------------------------------------


def test_a_planted_industry_is_found_and_proposed(world, active):
    truth = generate_deals(accounts=1500, deals_each=4, seed=3, win_probability=planted)
    result = recalibration_run(user=world.admin)
    report = result.report
    assert report["verdict"] == "proposal", report["message"]
    assert report["deals"] == 6000 and report["wins"] == sum(1 for _ in Opportunity.objects.filter(is_won=True))
    top = report["ranking"][0]
    assert top["label"] == "Industry is Logistics" and top["coefficient"] > 0 and top["points"] > 0
    test_ids = [result.deal_ids[i] for i in result.test_rows]
    won = dict(Opportunity.objects.filter(pk__in=test_ids).values_list("pk", "is_won"))
    bayes = roc_auc_score([won[i] for i in test_ids], [truth[i] for i in test_ids])
    assert report["auc"] >= bayes - 0.03, (report["auc"], bayes)
    assert abs(report["points_auc"] - report["auc"]) <= 0.02
    draft = result.draft
    assert draft.is_draft and draft.based_on == active
    logistics = next(c for c in draft.icp.criteria if c["attribute"] == "industry" and c["value"] == "logistics")
    others = [c["points"] for c in draft.icp.criteria if c["attribute"] == "industry" and c is not logistics]
    assert all(logistics["points"] > p for p in others)
    assert draft.icp.exclusions == active.icp.exclusions
    assert draft.w_fit + draft.w_signal + draft.w_coverage == pytest.approx(1.0)
    assert draft.mqa_tiers == active.mqa_tiers and draft.mqa_signal_min == active.mqa_signal_min

    # The same job run again (a retried task) and a new run on unchanged data both point to the same draft.
    job = Job.objects.create(kind=Job.Kind.RECALIBRATE, created_by=world.admin)
    first = recalibration_run(user=world.admin, job=job)
    job.result, job.status = first.report, Job.Status.SUCCEEDED
    job.save()
    assert first.draft.pk == draft.pk
    again = recalibration_run(user=world.admin)
    assert again.draft.pk == draft.pk and "Nothing has changed" in again.report["message"]
    assert ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).count() == 1

    # New data: a new draft.
    account = Account.objects.filter(industry="retail").first()
    Opportunity.objects.create(account=account, stage="Won", is_closed=True, is_won=True, closed_on=dt.date(2024, 6, 1))
    assert recalibration_run(user=world.admin).draft.pk != draft.pk


def _attribute_rows(report: dict, attribute: str) -> list[dict]:
    return [r for r in report["ranking"] if (r["criterion"] or {}).get("attribute") == attribute]


def test_free_form_attributes_numbers_lists_and_signals_without_a_rule_are_learned(world, active):
    """The planted deals' effects live in two `attributes` keys, a number, a list and two signal kinds the active
    model has no rule for: each must become points, and the points model must rank as well as the regression and
    near the best possible (the true probability)."""
    planted = planted_create(deals=4000, seed=21)
    assert not {r["kind"] for r in active.signal_rules} & {"pricing_page", "webinar"}
    result = recalibration_run(user=world.admin)
    report = result.report
    assert report["verdict"] == "proposal", report["message"]
    test_ids = [result.deal_ids[i] for i in result.test_rows]
    bayes = planted.bayes_auc(test_ids)
    assert report["auc"] >= bayes - 0.02, (report["auc"], bayes)
    assert abs(report["points_auc"] - report["auc"]) <= 0.02, (report["points_auc"], report["auc"])
    assert report["points_checked"]["deals"] > 0 and report["points_checked"]["disagree"] == 0

    criteria = result.draft.icp.criteria
    lead = {c["value"]: c["points"] for c in criteria if c["attribute"] == "lead_source"}
    assert lead["referral"] > lead["partner"] > lead["event"] > lead["outbound"] > lead["paid_ads"]
    assert lead["paid_ads"] < 0  # a penalty: worse than no lead source at all
    plan = {c["value"]: c["points"] for c in criteria if c["attribute"] == "plan"}
    assert plan["enterprise"] > plan["business"] > plan["team"] > plan["starter"]
    assert any(c["attribute"] == "technologies" and c["value"] == "Salesforce" and c["points"] > 0 for c in criteria)
    sizes = [c for c in criteria if c["attribute"] == "employee_count"]
    assert len(sizes) >= 3 and max(sizes, key=lambda c: c["points"])["operator"] == "gte"
    rules = {r["kind"]: r for r in result.draft.signal_rules}
    assert {"pricing_page", "webinar"} <= set(rules) and rules["webinar"]["points"] > 0
    assert result.draft.full_signal_points == pytest.approx(sum(r["max_points"] for r in result.draft.signal_rules))

    used = {row["name"].split(":")[0] for row in report["features"]["used"]}
    assert {"lead_source", "plan", "employee_count", "technologies", "signal"} <= used
    left = {row["name"]: row["reason"] for row in report["features"]["left_out"]}
    assert left["name"].startswith("an identifier") and left["region"] == "no deal's account has a value"


def test_thresholds_cut_the_target_mix_and_publishing_places_accounts_so(world, django_capture_on_commit_callbacks):
    planted_create(deals=3000, seed=5)
    result = recalibration_run(user=world.admin, target_mix=[10, 20, 30, 40])
    draft = result.draft
    assert result.report["target_mix"] == [10, 20, 30, 40]
    assert draft.tier1_enter > draft.tier2_enter > draft.tier3_enter
    assert draft.tier1_min_fit == draft.tier2_min_fit == draft.tier3_min_fit == 0
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=draft, user=world.admin)
    tiers = list(AccountScore.objects.exclude(tier="suppress").values_list("tier", flat=True))
    shares = [100 * tiers.count(t) / len(tiers) for t in ("tier_1", "tier_2", "tier_3", "recycle")]
    for share, target in zip(shares, [10, 20, 30, 40], strict=True):
        assert abs(share - target) <= 2.0, shares

    # Published, scored now: it still ranks the held-out deals as well as the regression.
    held_out = [result.deal_ids[i] for i in result.test_rows]
    deals = Opportunity.objects.filter(pk__in=held_out).values_list("is_won", "account__score__unified")
    published = roc_auc_score([won for won, _ in deals], [score for _, score in deals])
    assert abs(published - result.report["auc"]) <= 0.02, (published, result.report["auc"])


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
    assert draft.required_personas  # the standard buying group
    assert draft.signal_rules == [] and draft.w_signal == 0  # no deal's account had a signal: nothing to weigh


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


def test_signals_count_only_before_the_deal_is_engaged_or_closed(world):
    account = world.north_account
    Opportunity.objects.create(
        account=account,
        stage="Won",
        is_closed=True,
        is_won=True,
        engaged_on=dt.date(2024, 2, 1),
        closed_on=dt.date(2024, 3, 1),
    )
    engaged = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    for days in (-14, -1, 0, 3, -400):  # on the engaged day, after it (before the close) and too old: not read
        Signal.objects.create(account=account, kind="meeting", occurred_at=engaged + dt.timedelta(days=days))
    at = np.array([(engaged + dt.timedelta(days=d)).timestamp() for d in (-14, -1, 0, 3, -400)])
    history = SignalHistory(
        kinds=["meeting"], account=np.zeros(5, dtype=np.int64), kind=np.zeros(5, dtype=np.int64), at=at
    )
    rows = np.zeros(1, dtype=np.int64)
    as_engaged = decayed_sums(
        history, rows, moments_of(closed_deals(as_of="engaged").as_of), half_life=14, lookback_days=365
    )
    assert as_engaged[0, 0] == pytest.approx(0.5 + 0.5 ** (1 / 14))
    as_closed = decayed_sums(
        history, rows, moments_of(closed_deals(as_of="closed").as_of), half_life=14, lookback_days=365
    )
    # As of the close (29 days later) the signals on and after the engaged day count too.
    assert as_closed[0, 0] == pytest.approx(sum(0.5 ** (age / 14) for age in (43, 30, 29, 26)))


def test_candidates_read_every_attribute_by_its_type():
    values = [
        {"name": f"A{i}", "industry": ["software", "retail", "media"][i % 3], "employee_count": 10 * i,
         "technologies": ["Salesforce"] if i % 2 else [], "is_customer": bool(i % 4), "lead_source": ["web", "event", None][i % 3],
         "score_band": str(i % 5), "memo": f"free text {i}"}
        for i in range(300)
    ]  # fmt: skip
    criteria, left = criteria_definitions(values)
    said = {(c["attribute"], c["operator"], json_value(c["value"])) for c in criteria}
    assert ("industry", "eq", "software") in said and ("lead_source", "eq", "web") in said
    assert ("technologies", "contains", "Salesforce") in said and ("is_customer", "eq", "True") in said
    assert ("score_band", "eq", "3") in said  # a number with five values: levels
    assert {c["operator"] for c in criteria if c["attribute"] == "employee_count"} == {"lte", "between", "gte"}
    reasons = {row["name"]: row["reason"] for row in left}
    assert reasons["name"].startswith("an identifier") and "no value is shared" in reasons["memo"]
    complete = {c["attribute"]: c["complete"] for c in criteria}
    assert complete["industry"] and not complete["lead_source"]


def json_value(value):
    return str(value)


def test_the_thresholds_cut_the_mix_and_the_floor_keeps_fit_above_zero():
    scores = np.arange(1000, dtype=float) / 10  # 0.0 ... 99.9
    settings, achieved = thresholds_for_mix(scores, [10, 20, 30, 40], [5, 5, 5])
    assert (settings["tier1_enter"], settings["tier2_enter"], settings["tier3_enter"]) == (90.0, 70.0, 40.0)
    assert settings["tier1_exit"] == 85.0 and achieved == [10.0, 20.0, 30.0, 40.0]

    # Two groups: a complete one (every row matches one of its criteria) and a penalty that would take fit below 0.
    a = np.array([1, 0, 0, 1.0])
    b = 1 - a
    penalty = np.array([0, 0, 1, 1.0])
    columns = {"size:eq:big": a, "size:eq:small": b, "flag:eq:True": penalty}
    points = PointsModel(
        criteria=[
            {"group": "Size", "attribute": "size", "operator": "eq", "value": "big", "points": 30},
            {"group": "Size", "attribute": "size", "operator": "eq", "value": "small", "points": 0},
            {"group": "Flag", "attribute": "flag", "operator": "eq", "value": True, "points": -50},
        ],
        signal_rules=[],
        scale=1.0,
    )

    class Member:
        def __init__(self, value):
            self.kind, self.criterion = (
                "criterion",
                {"group": "Size", "attribute": "size", "operator": "eq", "value": value},
            )

    before = unified_scores(points, columns, {}, 4)[2]
    apply_floor(points, [Member("big"), Member("small")], columns, 4)
    assert points.floor == {"group": "Size", "points": 50}
    fit, _signal, after = unified_scores(points, columns, {}, 4)
    assert fit.min() >= 0 and before[2] == before[1] == 0  # the clamp flattened rows 1 and 2 before
    assert list(np.argsort(after)) == [2, 3, 1, 0]  # a small flagged one is last, a big unflagged one first


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
        response = client.post(reverse("recalibration-run"), MIX)
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
    assert f'data-figure="points-auc">{job.result["points_auc"]:.3f}<' in page
    assert "style=" not in page and "<script>" not in page  # the CSP: no inline style or script
    assert reverse("recalibration") in client.get(reverse("scoring-index")).content.decode()

    ranking = _read_csv(client.get(reverse("recalibration-ranking-export")))
    assert ranking[0][:3] == ["rank", "feature", "kind"] and ranking[0][-1] == "proposed_points"
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
        client.post(reverse("recalibration-run"), MIX)
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
        assert client.post(reverse("recalibration-run"), MIX).status_code == 403
    client.force_login(world.admin)
    assert client.get(reverse("recalibration-run")).status_code == 405  # no state change by GET
    assert not Job.objects.filter(kind=Job.Kind.RECALIBRATE).exists()
