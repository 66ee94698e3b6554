"""Lookalike scores: how much each account resembles the accounts won in the period, why, who may read the why, and
how the scoring model uses it."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.criteria import ACCOUNT_FIELDS, NUMBER, criterion_sentence
from accounts.imports import ImportFileError, import_file, import_records, kind_fields
from accounts.models import Account, Opportunity, PendingLookalike, PendingRescore
from accounts.services import opportunity_create, opportunity_update
from segmentation import lookalike as L
from segmentation.explain import explain
from segmentation.models import AccountScore, Lookalike, LookalikeRun
from segmentation.services import model_publish
from segmentation.services.lookalikes import lookalikes_queued, lookalikes_refresh
from tests.conftest import require_postgres
from tests.factories import AccountFactory, ICPFactory, OpportunityFactory, ScoringModelFactory, UserFactory

from .test_engine import assert_same, pure_scores, stored_scores

pytestmark = pytest.mark.django_db

# --- The planted structure -----------------------------------------------------------------------------------------
# Winners look alike: each has, independently, industry Software (else any of the 8), 1k-10k employees (else
# log-uniform over 1-300k) and Salesforce and Snowflake (each) with probability PLANTED; other technologies 0.15.
# Losses are drawn with no preference: any industry, log-uniform head counts, each technology 0.2. Country, revenue
# per head and the year founded are noise for both.
PLANTED = 0.6
INDUSTRIES = ["Software", "Retail", "Finance", "Health", "Energy", "Media", "Education", "Logistics"]
COUNTRIES = ["United States", "Germany", "France", "Japan", "Brazil", "India"]
TECHNOLOGIES = ["Salesforce", "HubSpot", "Snowflake", "AWS", "Azure", "SAP", "Oracle", "Zendesk", "Slack", "Jira"]
LIKED = ("Salesforce", "Snowflake")
MAX_LOG_EMPLOYEES = math.log10(300_000)


def planted_values(rng: np.random.Generator, *, won: bool) -> dict:
    industry = "Software" if won and rng.random() < PLANTED else str(rng.choice(INDUSTRIES))
    if won and rng.random() < PLANTED:
        employees = int(10 ** rng.uniform(3, 4))
    else:
        employees = int(10 ** rng.uniform(0, MAX_LOG_EMPLOYEES))
    technologies = [
        t
        for t in TECHNOLOGIES
        if rng.random() < ((PLANTED if t in LIKED else 0.15) if won else 0.2)  # noqa: PLR2004
    ]
    return {
        "industry": industry,
        "country": str(rng.choice(COUNTRIES)),
        "employee_count": employees,
        "annual_revenue": round(employees * rng.uniform(50_000, 300_000)),
        "year_founded": int(rng.integers(1950, 2020)),
        "technologies": technologies,
    }


def oracle_ratio(values: dict) -> float:
    """The true likelihood ratio P(traits | won) / P(traits | lost) of the planted structure: the best any score can
    rank by (its AUC is the ceiling for the lookalike score's)."""
    ratio = (PLANTED + (1 - PLANTED) / 8) * 8 if values["industry"] == "Software" else (1 - PLANTED)
    in_band = 1e3 <= values["employee_count"] < 1e4
    band_share = 1 / MAX_LOG_EMPLOYEES
    ratio *= (PLANTED + (1 - PLANTED) * band_share) / band_share if in_band else (1 - PLANTED)
    for t in TECHNOLOGIES:
        p_won = PLANTED if t in LIKED else 0.15
        ratio *= p_won / 0.2 if t in values["technologies"] else (1 - p_won) / 0.8
    return ratio


def plant(*, reference: int, held_out: int, losses: int, seed: int = 21) -> dict[str, list[int]]:
    """Accounts won in the period (the reference set), accounts won before it (held out: the refresh never sees them
    as wins), and accounts that lost their deal, with their opportunities."""
    rng = np.random.default_rng(seed)
    today = timezone.now().date()
    groups = {"reference": reference, "held_out": held_out, "losses": losses}
    accounts = []
    for group, count in groups.items():
        for _ in range(count):
            values = planted_values(rng, won=group != "losses")
            n = len(accounts)
            accounts.append((group, Account(name=f"Company {n}", external_id=f"P{n}", **values)))
    created = Account.objects.bulk_create([a for _, a in accounts])
    opportunities = []
    ids: dict[str, list[int]] = {g: [] for g in groups}
    for (group, _), account in zip(accounts, created, strict=True):
        ids[group].append(account.pk)
        ago = {"reference": int(rng.integers(10, 300)), "held_out": int(rng.integers(400, 700))}.get(group)
        won = group != "losses"
        opportunities.append(
            Opportunity(
                account=account,
                external_id=f"O{account.pk}",
                stage="Won" if won else "Lost",
                is_closed=True,
                is_won=won,
                closed_on=today - dt.timedelta(days=ago if won else int(rng.integers(10, 300))),
            )
        )
    Opportunity.objects.bulk_create(opportunities)
    return ids


AUC_FLOOR = 0.8


def test_on_planted_data_held_out_wins_rank_above_losses():
    """AUC of the lookalike score, held-out wins against losses: 0.881 on this data (the planted structure's own
    ceiling, ranking by the true likelihood ratio, is 0.934; chance is 0.5). Asserted >= 0.8: well above chance and
    within 0.1 of the best any score can do on 600 accounts (the AUC's standard error here is about 0.015)."""
    ids = plant(reference=300, held_out=150, losses=450)
    run = lookalikes_refresh(trigger="test")
    assert run.won_accounts == 300
    assert run.accounts == 900
    scores = dict(Account.objects.values_list("pk", "lookalike"))
    held = [scores[i] for i in ids["held_out"]]
    lost = [scores[i] for i in ids["losses"]]
    assert None not in held + lost
    measured = L.auc(held, lost)
    values = {a["id"]: a for a in Account.objects.values("id", "industry", "employee_count", "technologies")}
    ceiling = L.auc(
        [oracle_ratio(values[i]) for i in ids["held_out"]], [oracle_ratio(values[i]) for i in ids["losses"]]
    )
    print(f"lookalike AUC {measured:.3f}; planted ceiling {ceiling:.3f}")
    assert measured >= AUC_FLOOR
    assert measured <= ceiling + 0.02  # a sanity check on the measure itself: nothing beats the true ratio


def test_the_score_maps_similarity_to_0_100_and_never_counts_the_account_itself():
    today = timezone.now().date()
    same = {"industry": "Software", "country": "Germany", "employee_count": 5000, "technologies": ["Salesforce"]}
    winners = [AccountFactory(name=f"Winner {n}", **same) for n in range(6)]
    for w in winners:
        OpportunityFactory(account=w, closed_on=today - dt.timedelta(days=20))
    twin = AccountFactory(name="Twin", **same)
    stranger = AccountFactory(name="Stranger", industry="Mining", country="Chile", employee_count=None,
                              technologies=["Fortran"])  # fmt: skip
    half = AccountFactory(name="Half", industry="Software", country="Chile", employee_count=5000, technologies=[])
    lookalikes_refresh(trigger="test")
    for account in [*winners, twin, stranger, half]:
        account.refresh_from_db()
    assert twin.lookalike == 100.0  # the same traits as its 5 nearest winners
    assert stranger.lookalike == 0.0  # nothing in common with any winner
    # Half: Software (weight 1.0) and 1k-10k employees (0.8) of the winners' Software, Germany (0.7), 1k-10k (0.8),
    # uses Salesforce (0.6): cosine = (1 + 0.64) / (sqrt(1 + 0.64) * sqrt(1 + 0.49 + 0.64 + 0.36)).
    assert half.lookalike == pytest.approx(round(100 * math.sqrt(1.64) / math.sqrt(2.49), 1))
    # A winner is scored on the other five, never on itself.
    reasons = Lookalike.objects.get(account=winners[0])
    assert winners[0].pk not in [n[0] for n in reasons.neighbours]
    assert len(reasons.neighbours) == L.K
    assert reasons.traits == ["Software", "1k–10k employees", "Germany", "uses Salesforce"]
    half_reasons = Lookalike.objects.get(account=half)
    assert half_reasons.traits == ["Software", "1k–10k employees"]
    assert half_reasons.neighbours[0][2] == today.year


def test_wins_outside_the_period_are_not_the_reference_and_no_win_means_no_score(settings):
    today = timezone.now().date()
    old = AccountFactory(industry="Software")
    OpportunityFactory(account=old, closed_on=today - dt.timedelta(days=400))
    other = AccountFactory(industry="Software")
    run = lookalikes_refresh(trigger="test")
    assert run.won_accounts == 0
    assert Account.objects.filter(lookalike__isnull=False).count() == 0
    settings.LOOKALIKE_PERIOD_DAYS = 500
    run = lookalikes_refresh(trigger="test")
    assert run.won_accounts == 1 and run.period_days == 500
    other.refresh_from_db()
    assert other.lookalike is not None


def test_a_won_deal_queues_a_refresh_through_the_services_the_api_and_the_importer(
    django_capture_on_commit_callbacks, world
):
    today = timezone.now().date()
    account = world.north_account
    with django_capture_on_commit_callbacks(execute=False):
        open_deal = opportunity_create(values={"account": account, "external_id": "X1", "stage": "Engaging"})
    assert not PendingLookalike.objects.exists()  # an open deal changes no won account
    with django_capture_on_commit_callbacks(execute=True):
        opportunity_update(
            opportunity=open_deal, values={"stage": "Won", "is_closed": True, "is_won": True, "closed_on": today}
        )
    # Woken on commit: one refresh for the burst, the queue emptied.
    assert LookalikeRun.objects.filter(trigger="won deals changed").count() == 1
    assert not PendingLookalike.objects.exists()
    account.refresh_from_db()
    assert account.lookalike is not None

    client = APIClient()
    client.force_authenticate(world.admin)
    response = client.post(
        "/api/v1/opportunities/",
        {
            "account": world.south_account.pk,
            "external_id": "X2",
            "stage": "Won",
            "is_closed": True,
            "is_won": True,
            "closed_on": today.isoformat(),
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert PendingLookalike.objects.filter(account_id=world.south_account.pk).exists()
    import_records(
        kind="opportunities",
        records=[
            {"external_id": "X3", "account": world.owned_by_rep.external_id, "stage": "Won", "closed_on": today}
        ],  # fmt: skip
    )
    assert PendingLookalike.objects.filter(account_id=world.owned_by_rep.pk).exists()
    assert lookalikes_queued() == 2
    assert not PendingLookalike.objects.exists()


def test_lookalike_is_a_criterion_field_read_alike_by_sql_and_python_and_explained_in_words(
    django_capture_on_commit_callbacks,
):
    assert ACCOUNT_FIELDS["lookalike"] == NUMBER
    assert criterion_sentence("lookalike", "gte", 70) == "Lookalike score ≥ 70"
    today = timezone.now().date()
    same = {"industry": "Software", "country": "Germany", "employee_count": 5000, "technologies": ["Salesforce"]}
    for n in range(6):
        OpportunityFactory(account=AccountFactory(name=f"Winner {n}", **same), closed_on=today)
    alike = AccountFactory(name="Alike", **same)
    unlike = AccountFactory(name="Unlike", industry="Mining", country="Chile", employee_count=3)
    criteria = [
        {"group": "Lookalike", "attribute": "lookalike", "operator": "gte", "value": 70, "points": 50},
        {"group": "Geo", "attribute": "country", "operator": "eq", "value": "Chile", "points": 50},
    ]
    model = ScoringModelFactory(icp=ICPFactory(criteria=criteria, exclusions=[]))
    lookalikes_refresh(trigger="test")  # before the model reads it: nothing to rescore
    assert not PendingRescore.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=model, user=UserFactory(role="admin"))
    model.refresh_from_db()
    stored = stored_scores()
    assert_same(stored, pure_scores(model, AccountScore.objects.first().as_of))
    scores = {s.account_id: s for s in AccountScore.objects.all()}
    assert scores[alike.pk].fit == 50.0  # lookalike 100 >= 70: its 50 points of 100
    assert scores[unlike.pk].fit == 50.0  # lookalike 0: only Chile's 50
    words = " ".join(explain(scores[alike.pk])["sentences"])
    assert "Lookalike score ≥ 70" in words
    # A refresh that changes a score the active model reads queues the account for rescoring.
    Account.objects.filter(pk=alike.pk).update(industry="Mining", country="Chile", employee_count=3, technologies=[])
    PendingRescore.objects.all().delete()
    lookalikes_refresh(trigger="test")
    assert set(PendingRescore.objects.values_list("account_id", flat=True)) == {alike.pk}
    if connection.vendor == "postgresql":
        print("the SQL engine scored the stored rows")


def test_lookalike_cannot_be_imported_or_written(tmp_path, world):
    assert "lookalike" not in kind_fields("accounts")
    path = tmp_path / "accounts.csv"
    path.write_text("name,external_id,lookalike\nAcme,A1,99\n")
    with pytest.raises(ImportFileError, match="Lookalike score .* is computed by the product"):
        import_file(kind="accounts", path=path, mapping={"lookalike": ["lookalike"]})
    report = import_file(kind="accounts", path=path)  # unmapped: kept nowhere, and said so
    acme = Account.objects.get(external_id="A1")
    assert acme.lookalike is None and "lookalike" not in acme.attributes
    assert any(
        note.startswith("Not imported: 'lookalike'. Lookalike score (lookalike) is computed") for note in report.notes
    )
    report = import_records(kind="accounts", records=[{"name": "Beta", "external_id": "B1", "lookalike": 99}])
    assert "computed by the product" in report.errors[0].reason
    assert not Account.objects.filter(external_id="B1").exists()

    client = APIClient()
    client.force_authenticate(world.admin)
    response = client.post("/api/v1/accounts/", {"name": "Gamma", "external_id": "G1", "lookalike": 99}, format="json")
    assert response.status_code == 400
    assert "computed by the product" in response.json()["lookalike"][0]
    url = f"/api/v1/accounts/{world.north_account.pk}/"
    response = client.patch(url, {"lookalike": 99}, format="json")
    assert response.status_code == 400
    response = client.patch(url, {"attributes": {"lookalike": 99}}, format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/accounts/bulk/", [{"name": "Delta", "external_id": "D1", "lookalike": 1}],
                           format="json")  # fmt: skip
    assert response.status_code == 400
    assert "computed by the product" in response.json()["errors"][0]["detail"]
    world.north_account.refresh_from_db()
    assert world.north_account.lookalike is None
    assert not Account.objects.filter(external_id__in=["G1", "D1"]).exists()
    assert client.get(url).json()["lookalike"] is None


def test_reasons_name_only_the_won_accounts_the_reader_may_see(client, world):
    today = timezone.now().date()
    same = {"industry": "Software", "country": "Germany", "employee_count": 5000, "technologies": ["Salesforce"]}
    Account.objects.filter(pk__in=[a.pk for a in (world.north_account, world.south_account)]).update(**same)
    OpportunityFactory(account=world.north_account, closed_on=today)
    OpportunityFactory(account=world.south_account, closed_on=today)
    target = world.owned_by_rep
    Account.objects.filter(pk=target.pk).update(**same)
    lookalikes_refresh(trigger="test")

    client.force_login(world.admin)
    page = client.get(reverse("account-detail", args=[target.pk])).content.decode()
    sentence = page[page.index('id="lookalike-sentence"') :].split("</p>")[0]
    assert "North account" in sentence and "South account" in sentence
    assert f" account (won {today.year}), sharing: Software, 1k–10k employees, Germany, uses Salesforce." in sentence
    assert "Lookalike score <strong>40.0</strong>" in page  # the same traits as 2 won accounts: 2 of its 5 neighbours

    client.force_login(world.north_rep)  # sees North, not South
    page = client.get(reverse("account-detail", args=[target.pk])).content.decode()
    assert "South account" not in page
    assert f"Like North account (won {today.year}) and 1 won account outside your territories, sharing" in page

    client.force_login(world.rep)  # sees only what they own
    page = client.get(reverse("account-detail", args=[target.pk])).content.decode()
    assert "North account" not in page and "South account" not in page
    assert "Like 2 won accounts outside your territories, sharing: Software" in page

    api = APIClient()
    api.force_authenticate(world.north_rep)
    body = api.get(f"/api/v1/accounts/{target.pk}/").json()
    assert body["lookalike"] == 40.0
    reasons = body["lookalike_reasons"]
    assert [n["name"] for n in reasons["neighbours"]] == ["North account"]
    assert reasons["hidden"] == 1
    assert "South account" not in str(body)
    assert reasons["traits"][:2] == ["Software", "1k–10k employees"]


def test_the_lookalikes_page_runs_a_refresh_and_says_when_and_on_how_many(client, world):
    OpportunityFactory(account=world.north_account, closed_on=timezone.now().date())
    client.force_login(world.admin)
    page = client.get(reverse("lookalikes")).content.decode()
    assert "never been computed" in page
    response = client.post(reverse("lookalikes-run"))
    assert response.status_code == 302
    from core.models import Job
    from segmentation.services.lookalikes import lookalikes_job_run

    job = Job.objects.get(params__work="lookalikes")
    lookalikes_job_run(job.pk)  # the task the commit would wake
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    page = client.get(reverse("lookalikes")).content.decode()
    assert "Last refreshed" in page and "run by admin" in page
    assert '<strong id="won-accounts">1</strong> won account:' in page
    client.force_login(world.manager)
    assert client.post(reverse("lookalikes-run")).status_code == 403


@pytest.mark.postgres
def test_postgresql_encodes_traits_exactly_as_the_python_reader_does():
    """The refresh on PostgreSQL reads each account's traits in SQL; it must read what lookalike.account_traits reads,
    odd values included (spaces, case, bounds of the bands, attribute values of every JSON type)."""
    from segmentation.services.lookalikes import _read_chunk

    require_postgres()  # the SQL encoding is PostgreSQL's
    odd = [
        {"industry": " software\t", "country": "GERMANY", "employee_count": 10, "annual_revenue": 1_000_000,
         "year_founded": 1999, "technologies": [" Salesforce ", "salesforce", 5, None], "attributes":
         {"plan": " Pro ", "seats": 5, "ratio": 2.5, "partner": True, "tier": False, "notes": "x" * 80}},
        {"industry": "Software", "country": "germany", "employee_count": 9999, "annual_revenue": 999_999.99,
         "year_founded": 2000, "technologies": ["SALESFORCE", "Snowflake"], "attributes":
         {"plan": "pro", "seats": 5.0, "ratio": 2.50, "partner": False, "tier": True}},
        {"industry": "", "country": "", "employee_count": 0, "annual_revenue": 0, "year_founded": None,
         "technologies": {"not": "a list"}, "attributes": ["not", "an", "object"]},
        {"industry": "Retail", "country": "Japan", "employee_count": 100_000, "annual_revenue": 1e9,
         "year_founded": 1000, "technologies": [], "attributes": {"plan": "enterprise", "seats": 12}},
        {"industry": "Retail", "country": "Japan", "employee_count": 1, "annual_revenue": 12_345_678,
         "year_founded": 2100, "technologies": ["Snowflake"], "attributes": {"plan": "PRO", "seats": "5"}},
    ]  # fmt: skip
    accounts = [AccountFactory(**values) for values in odd * 2]
    rows = list(Account.objects.order_by("pk").values(*L.COLUMNS))
    vocabulary = L.vocabulary_learn(rows)
    assert vocabulary.size > 20 and vocabulary.attribute_keys >= {"plan", "seats", "ratio", "partner", "tier"}
    ids, _, traits = _read_chunk(accounts[0].pk - 1, 100, vocabulary)
    assert ids.tolist() == [r["id"] for r in rows]
    assert (traits != L.encode(rows, vocabulary)).nnz == 0
