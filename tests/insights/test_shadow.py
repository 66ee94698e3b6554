"""A draft run in shadow: who may start, stop, compare and promote it; what the comparison counts; publishing it
ends its shadow run; at most one version and only a draft runs in shadow."""

import datetime as dt

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from insights.kpis.shapes import Period
from insights.shadow import MIN_ACCOUNTS, auc_of, shadow_comparison
from segmentation import services
from segmentation.models import AccountScore, ScoringModel, ShadowScore
from tests.factories import AccountFactory, OpportunityFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(world, django_capture_on_commit_callbacks):
    """An active version and a draft in shadow, both having scored every account of the world."""
    live = ScoringModelFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=live, user=None)
    live.refresh_from_db()
    draft = services.model_draft_create(user=world.admin, based_on=live, w_fit=0.3, w_signal=0.6, w_coverage=0.1)
    with django_capture_on_commit_callbacks(execute=True):
        services.model_shadow_start(model=draft, user=world.admin)
    draft.refresh_from_db()
    return live, draft


def test_an_admin_starts_and_stops_a_draft_in_shadow_from_its_page(world, client, django_capture_on_commit_callbacks):
    live = ScoringModelFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=live, user=None)
    draft = services.model_draft_create(user=world.admin, based_on=live)
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-shadow-start", args=[draft.pk]), follow=True)
    assert "runs in shadow" in response.content.decode()
    draft.refresh_from_db()
    assert draft.in_shadow and draft.shadow_since is not None
    assert ShadowScore.objects.filter(model=draft).count() == AccountScore.objects.count() == 5
    assert draft.history.first().history_user == world.admin  # audited like every model change
    response = client.post(reverse("model-shadow-stop", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert not draft.in_shadow and "no longer runs in shadow" in response.content.decode()


@pytest.mark.parametrize("who", ["manager", "rep", "outsider"])
def test_only_an_admin_may_start_or_stop_a_shadow_run(world, client, who):
    draft = ScoringModelFactory()
    client.force_login(getattr(world, who))
    assert client.post(reverse("model-shadow-start", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert not draft.in_shadow
    ScoringModel.objects.filter(pk=draft.pk).update(in_shadow=True)
    assert client.post(reverse("model-shadow-stop", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.in_shadow


def test_one_version_at_a_time_and_only_a_draft_runs_in_shadow(running, world):
    live, draft = running
    other = services.model_draft_create(user=None, based_on=live)
    with pytest.raises(ValidationError, match=f"v{draft.version} already runs in shadow"):
        services.model_shadow_start(model=other, user=world.admin)
    with pytest.raises(ValidationError, match="Only a draft can run in shadow"):
        services.model_shadow_start(model=live, user=world.admin)
    # The database holds the same rules, whatever writes the rows.
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringModel.objects.filter(pk=other.pk).update(in_shadow=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringModel.objects.filter(pk=live.pk).update(in_shadow=True)


def test_publishing_the_shadow_version_ends_its_shadow_run(running, django_capture_on_commit_callbacks):
    live, draft = running
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=draft, user=None)
    draft.refresh_from_db()
    assert draft.status == ScoringModel.Status.ACTIVE and not draft.in_shadow and draft.shadow_since is None
    assert services.shadow_model() is None


def test_a_rescore_with_a_shadow_changes_nothing_live(world, running, django_capture_on_commit_callbacks):
    """The same rescore, with and without a shadow version: the live scores, tier moves and MQAs are the same."""
    from segmentation.models import MQA, TierChange

    live, draft = running
    later = timezone.now() + dt.timedelta(days=3)

    def live_rows():
        fields = ["account_id", "model_id", "fit", "signal", "coverage", "unified", "tier", "tier_since", "flags"]
        return sorted(AccountScore.objects.values_list(*fields)), TierChange.objects.count(), MQA.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(model=live, as_of=later)
    with_shadow = live_rows()
    services.model_shadow_stop(model=draft, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(model=live, as_of=later)
    assert live_rows() == with_shadow


def closed_deals(accounts_won: list[tuple], *, closed_on=None):
    """(account, won) deals closed on `closed_on` (today by default)."""
    for account, won in accounts_won:
        OpportunityFactory(account=account, is_won=won, stage="Won" if won else "Lost", closed_on=closed_on)


def shadow_world(live, draft, n: int = 40):
    """n accounts with a closed deal: the shadow version ranks the winners above the losers, the active one not."""
    now = timezone.now()
    accounts = []
    for i in range(n):
        account = AccountFactory(name=f"Deal {i}")
        won = i % 2 == 0
        AccountScore.objects.create(
            account=account, model=live, fit=50, signal=10, coverage=0, unified=50.0 + (i % 7),
            tier="tier_3", tier_since=now, as_of=now, computed_at=now,
        )  # fmt: skip
        ShadowScore.objects.create(
            account=account, model=draft, fit=50, signal=10, coverage=0, unified=(85.0 if won else 15.0) + (i % 5),
            tier="tier_1" if won else "recycle", as_of=now, computed_at=now,
        )  # fmt: skip
        accounts.append((account, won))
    closed_deals(accounts, closed_on=now.date())
    return accounts


def test_the_comparison_reads_both_versions_on_the_same_closed_deals(world, running):
    live, draft = running
    shadow_world(live, draft)
    comparison = shadow_comparison(user=world.admin, period=Period())
    assert comparison.n == 40 and comparison.wins == 20 and not comparison.too_few and not comparison.message
    active, shadow = comparison.sides
    assert shadow.auc == 1.0 and active.auc < 0.8
    assert [(b.label, b.wins, b.n) for b in shadow.bands] == [
        ("0-20", 0, 20), ("20-40", 0, 0), ("40-60", 0, 0), ("60-80", 0, 0), ("80-100", 20, 20),
    ]  # fmt: skip
    assert sum(b.n for b in active.bands) == 40 and active.bands[2].n == 40
    low, high = shadow.bands[4].interval
    assert low > 80 and high == 100
    assert shadow.auc_interval is not None and active.auc_interval[0] < active.auc < active.auc_interval[1]
    assert shadow.r > 0.9 and shadow.r_interval[0] > 0
    # A period without those deals: nothing to compare, said plainly.
    old = shadow_comparison(user=world.admin, period=Period(end=dt.date(2020, 1, 1)))
    assert old.n == 0 and "nothing to compare" in old.message


def test_too_few_closed_deals_are_said_plainly(world, running, client):
    live, draft = running
    shadow_world(live, draft, n=8)
    client.force_login(world.admin)
    page = client.get(reverse("kpi-shadow")).content.decode()
    assert "Too few closed deals to compare: 8 accounts closed a deal" in page
    assert f"at least {MIN_ACCOUNTS} accounts" in page


def test_the_comparison_page_shows_both_columns_to_admins_and_managers(world, running, client):
    live, draft = running
    shadow_world(live, draft)
    client.force_login(world.admin)
    page = client.get(reverse("kpi-shadow"), {"period": "30"}).content.decode()
    assert f"Active (v{live.version})" in page and f"In shadow (v{draft.version})" in page
    assert "Promote the shadow model" in page and "1.00" in page
    client.force_login(world.manager)
    response = client.get(reverse("kpi-shadow"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Promote the shadow model" not in page  # a manager reads, only an admin publishes
    assert "n = 40" not in page  # the manager's territories hold none of those accounts


@pytest.mark.parametrize("who", ["rep", "north_rep", "outsider"])
def test_a_rep_cannot_read_the_comparison(world, running, client, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("kpi-shadow")).status_code == 403
    api = APIClient()
    api.force_authenticate(getattr(world, who))
    assert api.get("/api/v1/kpis/shadow/").status_code == 403


def test_a_bad_period_is_refused_with_what_was_typed_kept(world, running, client):
    client.force_login(world.admin)
    response = client.get(reverse("kpi-shadow"), {"period": "custom", "start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "must be on or before the end date" in page and 'value="2026-05-02"' in page


def test_the_api_twin_answers_the_same_figures(world, running):
    live, draft = running
    shadow_world(live, draft)
    api = APIClient()
    api.force_authenticate(world.admin)
    data = api.get("/api/v1/kpis/shadow/", {"period": "30"}).json()
    assert data["accounts"] == 40 and data["won"] == 20 and data["shadow"]["version"] == draft.version
    assert [s["name"] for s in data["sides"]] == ["Active", "In shadow"]
    assert data["sides"][1]["auc"] == 1.0 and data["sides"][1]["bands"][4]["accounts"] == 20
    assert api.get("/api/v1/kpis/shadow/", {"period": "7"}).status_code == 400
    manager = APIClient()
    manager.force_authenticate(world.manager)
    assert manager.get("/api/v1/kpis/shadow/").status_code == 200


def test_promote_asks_first_then_publishes(world, running, client, django_capture_on_commit_callbacks):
    live, draft = running
    client.force_login(world.admin)
    page = client.get(reverse("kpi-shadow-promote")).content.decode()
    assert f"Promote Test model v{draft.version}?" in page and f"Yes, publish v{draft.version}" in page
    assert "Counts by tier" in page
    draft.refresh_from_db()
    assert draft.is_draft  # asking changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("kpi-shadow-promote"))
    assert response.status_code == 302
    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.status == ScoringModel.Status.ACTIVE and not draft.in_shadow
    assert live.status == ScoringModel.Status.ARCHIVED


@pytest.mark.parametrize("who", ["manager", "rep"])
def test_only_an_admin_may_promote(world, running, client, who):
    live, draft = running
    client.force_login(getattr(world, who))
    assert client.get(reverse("kpi-shadow-promote")).status_code == 403
    assert client.post(reverse("kpi-shadow-promote")).status_code == 403
    draft.refresh_from_db()
    assert draft.is_draft and draft.in_shadow


def test_auc_counts_ties_as_halves():
    assert auc_of(np.array([1.0, 2.0, 3.0, 4.0]), np.array([False, False, True, True])) == 1.0
    assert auc_of(np.array([5.0, 5.0]), np.array([True, False])) == 0.5
    assert auc_of(np.array([1.0, 2.0]), np.array([True, True])) is None


def test_editing_the_draft_in_shadow_redoes_its_shadow_scores(world, running, django_capture_on_commit_callbacks):
    """An edit to the draft running in shadow, or to the ICP it reads live, scores every account again with what it
    says now; an edit that leaves it unable to score stops its shadow run."""
    live, draft = running
    before = dict(ShadowScore.objects.values_list("account_id", "unified"))
    assert before and set(ShadowScore.objects.values_list("model_id", flat=True)) == {draft.pk}
    with django_capture_on_commit_callbacks(execute=True):
        services.model_draft_update(
            model=draft, user=world.admin, values={"w_fit": 0.9, "w_signal": 0.05, "w_coverage": 0.05}
        )
    after = dict(ShadowScore.objects.values_list("account_id", "unified"))
    assert after.keys() == before.keys() and after != before
    for fit, signal, coverage, unified in ShadowScore.objects.values_list("fit", "signal", "coverage", "unified"):
        assert unified == pytest.approx(0.9 * fit + 0.05 * signal + 0.05 * coverage, abs=0.06)

    assert set(ShadowScore.objects.values_list("account__country", flat=True)) == {"United States"}
    assert set(ShadowScore.objects.values_list("fit", flat=True)) != {0.0}
    criterion = {"group": "Geo", "attribute": "country", "operator": "eq", "value": "Germany", "points": 100}
    with django_capture_on_commit_callbacks(execute=True):
        services.icp_update(icp=draft.icp, user=world.admin, values={"criteria": [criterion]})
    assert set(ShadowScore.objects.values_list("fit", flat=True)) == {0.0}  # the ICP as it reads now: no match
    draft.refresh_from_db()
    assert draft.in_shadow

    with django_capture_on_commit_callbacks(execute=True):
        services.model_draft_update(model=draft, user=world.admin, values={"w_fit": 0.9, "w_signal": 0.9})
    draft.refresh_from_db()
    assert not draft.in_shadow  # weights that no longer sum to 1 cannot score: the shadow run stops
