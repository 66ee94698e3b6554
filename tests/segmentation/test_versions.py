"""Model versions: preview shows exactly what publishing does, publish and restore, history, refusals."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from core.models import Job
from segmentation import services
from segmentation.engine import EXPLANATION_FIELDS
from segmentation.history import version_changes, version_events
from segmentation.models import ICP, AccountScore, ScoringModel
from tests.factories import ScoringModelFactory

from .test_engine import AS_OF, publish, small_world

pytestmark = pytest.mark.django_db


def snapshot() -> dict[int, tuple]:
    return {
        s.account_id: (
            s.model_id,
            s.fit,
            s.signal,
            s.coverage,
            s.unified,
            s.tier,
            *(getattr(s, f) for f in EXPLANATION_FIELDS),
        )
        for s in AccountScore.objects.all()
    }


def tiers() -> dict[int, str]:
    return dict(AccountScore.objects.values_list("account_id", "tier"))


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    small_world()
    model = ScoringModelFactory()
    publish(model, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    model.refresh_from_db()
    return model


def software_first(model: ScoringModel) -> ScoringModel:
    """A draft from `model` whose ICP only values software, with signals weighing more."""
    icp = ICP.objects.create(
        name="Software only",
        criteria=[{"group": "Industry", "attribute": "industry", "operator": "eq", "value": "software", "points": 10}],
        exclusions=[],
    )
    return services.model_draft_create(user=None, based_on=model, icp=icp, w_fit=0.5, w_signal=0.4, w_coverage=0.1)


def test_preview_lists_exactly_the_accounts_publish_then_moves(published, django_capture_on_commit_callbacks):
    before = tiers()
    draft = software_first(published)
    preview = services.preview_compute(model=draft, as_of=AS_OF)
    assert tiers() == before  # a preview changes nothing
    assert preview["moved"] > 0
    moves = {m["account_id"]: (m["from"], m["to"]) for m in preview["moves"]}
    assert preview["moved"] == len(moves)

    publish(draft, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    after = tiers()
    assert {a: (before[a], after[a]) for a in after if before[a] != after[a]} == moves
    assert preview["after"] == {t: Counter(after.values()).get(t, 0) for t in preview["after"]}
    assert preview["before"] == {t: Counter(before.values()).get(t, 0) for t in preview["before"]}
    assert sum(m["accounts"] for m in preview["matrix"]) == len(after)


def test_publish_archives_the_active_version_and_restore_brings_back_its_scores(
    published, django_capture_on_commit_callbacks
):
    first_scores = snapshot()
    draft = software_first(published)
    job = publish(draft, django_capture_on_commit_callbacks=django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == ("archived", "active")
    assert draft.criteria == draft.icp.criteria  # frozen at publish
    assert snapshot() != first_scores
    assert services.previous_version(draft) == published

    with django_capture_on_commit_callbacks(execute=True):
        services.model_restore(model=published, user=None, as_of=AS_OF)
    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == ("active", "archived")
    assert snapshot() == first_scores


def test_an_active_version_scores_with_its_frozen_criteria_not_the_edited_icp(
    published, django_capture_on_commit_callbacks
):
    scores = snapshot()
    published.icp.criteria = [{"attribute": "country", "operator": "eq", "value": "Germany", "points": 5}]
    published.icp.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.rescore_job_start(as_of=AS_OF)
    assert snapshot() == scores


def test_only_a_valid_draft_is_published(published):
    with pytest.raises(ValidationError, match="not a draft"):
        services.model_publish(model=published, user=None)
    icp = ICP.objects.create(
        name="Broken", criteria=[{"attribute": "shoe_size", "operator": "gte", "value": 40, "points": 5}]
    )
    draft = services.model_draft_create(user=None, based_on=published, icp=icp)
    with pytest.raises(ValidationError) as refused:
        services.model_publish(model=draft, user=None)
    assert "Criterion 1 (Shoe size ≥ 40): No account holds “Shoe size”" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.status == "draft"
    with pytest.raises(ValidationError, match="Only an archived version"):
        services.model_restore(model=draft, user=None)


def test_history_says_what_changed_between_versions(published):
    draft = software_first(published)
    draft.signal_rules[0]["points"] = 5
    draft.tier1_enter, draft.full_signal_points = 80, 1500
    draft.required_personas, draft.mqa_tiers = ["economic_buyer", "champion"], ["tier_1"]
    draft.icp.exclusions = [{"attribute": "annual_revenue", "operator": "gte", "value": 1_000_000_000}]
    lines = version_changes(published, draft)
    assert f"ICP: {published.icp.name} → Software only" in lines
    assert "Added criterion Industry is Software (+10)" in lines
    assert "Removed criterion Size: Employees between 200 and 2,000 (+40)" in lines
    assert "Removed criterion Industry is one of Software, Fintech (+30)" in lines
    assert "Removed exclusion Is a customer" in lines
    assert "Added exclusion Annual revenue ≥ $1B" in lines
    assert "Fit weight: 0.6 → 0.5" in lines and "Signal weight: 0.3 → 0.4" in lines
    assert "Tier 1 entry threshold: 75 → 80" in lines
    assert "Signal points for a score of 100: 100 → 1,500" in lines
    assert "Required personas: Economic buyer, Champion, Technical evaluator → Economic buyer, Champion" in lines
    assert "MQA tiers: Tier 1, Tier 2 → Tier 1" in lines
    assert "Signal rule Web visit: 2 points, half-life 14 days, cap 20 → 5 points, half-life 14 days, cap 20" in lines
    text = " ".join(lines)
    for code in ("w_fit", "tier1_enter", "employee_count", "economic_buyer", "tier_1", "web_visit", "gte", "->"):
        assert code not in text
    assert version_changes(None, draft) == ["First version."]


def test_a_restore_keeps_the_original_publish_and_records_who_restored_and_when(
    published, world, django_capture_on_commit_callbacks
):
    first_published = (published.published_at, published.published_by)
    draft = software_first(published)
    with django_capture_on_commit_callbacks(execute=True):
        services.model_publish(model=draft, user=world.manager, as_of=AS_OF)
    with django_capture_on_commit_callbacks(execute=True):
        services.model_restore(model=published, user=world.admin, as_of=AS_OF)
    published.refresh_from_db()
    assert published.status == "active"
    assert (published.published_at, published.published_by) == first_published
    assert published.restored_by == world.admin and published.restored_at > published.published_at
    assert published.archived_at is None
    events = [(what, who) for what, _, who in version_events(published)]
    assert events == [("Created", "system"), ("Published", "system"), ("Restored", world.admin.get_full_name())]


def test_rescore_command_runs_here_and_reports(published, capsys, monkeypatch, django_capture_on_commit_callbacks):
    from segmentation.tasks import rescore_chunk_task

    sent = []
    monkeypatch.setattr(rescore_chunk_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rescore", "--sync")
    assert sent == []  # nothing is queued for the workers: they would score the same slices at the same time
    out = capsys.readouterr().out
    assert "Rescored 5 accounts." in out and "accounts scored: 5" in out
    job = Job.objects.filter(kind="rescore").latest("pk")
    assert job.status == Job.Status.SUCCEEDED


def test_rescore_command_without_an_active_model_says_so(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no active scoring model"):
        call_command("rescore", "--sync")
