"""The scoring model pages (version page, draft editor, publish and restore pages, version history) speak the trade's
words: criteria as sentences, personas and tiers by their labels, numbers formatted, settings by their labels; the
publish page and the version page say the same."""

import re
from html import unescape

import pytest
from django.urls import reverse

from segmentation.models import ICP
from segmentation.services import model_publish, model_restore
from tests.factories import AccountFactory, ICPFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db

CODE_NAMES = (
    "employee_count", "annual_revenue", "is_customer", "tier_1", "tier_2", "recycle", "economic_buyer",
    "technical_evaluator", "web_visit", "w_fit", "tier1_enter", "mqa_signal_min", "gte", "not_in", "->",
)  # fmt: skip


def main_text(html: str) -> str:
    """What a person reads in the page's main part: no tags, no scripts, entities decoded, spaces collapsed."""
    main = html[html.index("<main") : html.index("</main>")]
    main = re.sub(r"<(script|template)\b.*?</\1>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


@pytest.fixture
def draft(world):
    icp = ICPFactory(name="Enterprise")
    icp.criteria = [
        *icp.criteria,
        {"group": "Revenue", "attribute": "annual_revenue", "operator": "gte", "value": 1_000_000_000, "points": 25},
        {"group": "", "attribute": "industry", "operator": "not_in", "value": ["retail"], "points": -10},
    ]
    icp.save()
    return ScoringModelFactory(icp=icp, required_personas=["economic_buyer", "champion"])


def test_the_version_page_describes_the_model_in_words(client, world, draft):
    client.force_login(world.admin)
    text = main_text(client.get(reverse("model-detail", args=[draft.pk])).content.decode())
    for words in (
        "Industry Industry is one of Software, Fintech +30",
        "Size Employees between 200 and 2,000 +40",
        "Size Employees ≥ 2,001 +20",
        "Geo Country is United States +30",
        "Revenue Annual revenue ≥ $1B +25",
        "Industry Industry is none of Retail -10",
        "Is a customer",
        "Web visit 2 14 20",
        "Weights Fit 0.6, signal 0.3, coverage 0.1",
        "Buying group Economic buyer, Champion, engaged within 90 days",
        "Tier 1 Enters at a unified score of 75 with fit ≥ 70; stays while unified ≥ 70",
        "MQA On entering Tier 1, Tier 2 with a signal score ≥ 30; 30 days' cooldown after a rejection",
        "Created",
    ):
        assert words in text
    for code in CODE_NAMES:
        assert code not in text, code


def test_the_draft_editor_labels_its_numbers_and_personas(client, world, draft):
    client.force_login(world.admin)
    text = main_text(client.get(reverse("model-edit", args=[draft.pk])).content.decode())
    for label in (
        "Fit weight", "Signal weight", "Coverage weight", "Tier 1 entry threshold", "Tier 1 exit threshold",
        "Tier 1 minimum fit", "MQA minimum signal", "Economic buyer", "Technical evaluator", "MQA tiers", "Tier 2",
    ):  # fmt: skip
        assert label in text, label
    for code in ("w_fit", "tier1_enter", "economic buyer", "technical evaluator"):
        assert code not in text, code


def test_problems_before_publishing_are_in_words(client, world):
    icp = ICP.objects.create(
        name="Broken", criteria=[{"group": "", "attribute": "shoe_size", "operator": "gte", "value": 40, "points": 5}]
    )
    model = ScoringModelFactory(icp=icp, w_fit=0.5)
    client.force_login(world.admin)
    text = main_text(client.get(reverse("model-detail", args=[model.pk])).content.decode())
    assert "Criterion 1 (Shoe size ≥ 40): No account holds “Shoe size”: choose an attribute from the list." in text
    assert "Fit weight: The weights must sum to 1; they sum to 0.9." in text
    assert "w_fit" not in text


def test_the_publish_page_and_the_version_page_say_the_same(client, world, draft, django_capture_on_commit_callbacks):
    for number in range(3):
        AccountFactory(industry="Software", employee_count=500 + number, country="United States")
    AccountFactory(industry="retail", employee_count=10)
    first = ScoringModelFactory(icp=ICPFactory(name="Anything goes", criteria=[
        {"group": "", "attribute": "employee_count", "operator": "exists", "value": None, "points": 10}
    ]))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=first, user=world.admin)
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("model-preview", args=[draft.pk]))
    detail = main_text(client.get(reverse("model-detail", args=[draft.pk])).content.decode())
    confirm = main_text(client.get(reverse("model-publish", args=[draft.pk])).content.decode())
    preview = between(detail, "Scored ", "Accounts that would change tier")
    assert preview == between(confirm, "Scored ", "Accounts that would change tier")
    assert re.search(r"Scored 9 accounts as of \d{4}-\d\d-\d\d \d\d:\d\d UTC\. \d+ would change tier", preview)
    assert "Tier Now After publishing Tier 1 " in preview and " Recycle " in preview
    for part in ("Fit criteria", "Exclusions", "Signal rules", "Weights"):
        assert between(detail, part, "Tier 3") == between(confirm, part, "Tier 3")
    assert "Compared with the active version" in confirm
    assert "Added criterion Revenue: Annual revenue ≥ $1B (+25)" in confirm
    assert "Removed criterion Employees is known (+10)" in confirm
    assert re.search(r"Account \d+ (Tier \d|Recycle) → (Tier \d|Recycle) \d", detail)
    for text in (detail, confirm):
        for code in CODE_NAMES:
            assert code not in text, code


def test_the_version_history_shows_each_publish_and_restore_with_full_names(
    client, world, django_capture_on_commit_callbacks
):
    first = ScoringModelFactory()
    second = ScoringModelFactory(icp=first.icp)
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=first, user=world.admin)
        model_publish(model=second, user=world.admin)
    client.force_login(world.admin)
    confirm = main_text(client.get(reverse("model-restore", args=[first.pk])).content.decode())
    assert "Its original publish (" in confirm and f"by {world.admin.get_full_name()}) is kept" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("model-restore", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    history = client.get(reverse("scoring-index")).content.decode()
    row = history[history.index(f'id="version-{first.version}"') :].split("</tr>")[0]
    row = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    name = world.admin.get_full_name()
    published, restored = f"{first.published_at:%Y-%m-%d %H:%M}", f"{first.restored_at:%Y-%m-%d %H:%M}"
    assert f"Published {published} by {name}" in row
    assert f"Restored {restored} by {name}" in row
    detail = main_text(client.get(reverse("model-detail", args=[first.pk])).content.decode())
    assert f"published {published} by {name}" in detail and f"restored {restored} by {name}" in detail


def test_restoring_again_keeps_the_first_publish(world, django_capture_on_commit_callbacks):
    first = ScoringModelFactory()
    second = ScoringModelFactory(icp=first.icp)
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=first, user=world.admin)
        model_publish(model=second, user=world.admin)
        model_restore(model=first, user=world.manager)
        model_restore(model=second, user=world.admin)
        model_restore(model=first, user=world.admin)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.published_by, first.restored_by, first.status) == (world.admin, world.admin, "active")
    assert first.published_at < second.published_at < first.restored_at


@pytest.mark.parametrize("name", ["manager", "north_rep"])
def test_only_admins_see_or_restore_versions(client, world, name, django_capture_on_commit_callbacks):
    first = ScoringModelFactory()
    second = ScoringModelFactory(icp=first.icp)
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=first, user=world.admin)
        model_publish(model=second, user=world.admin)
    client.force_login(getattr(world, name))
    for url in ("model-detail", "model-restore", "model-edit"):
        assert client.get(reverse(url, args=[first.pk])).status_code == 403
    assert client.post(reverse("model-restore", args=[first.pk])).status_code == 403
    first.refresh_from_db()
    assert first.status == "archived" and first.restored_at is None


def test_a_score_explained_names_the_engaged_personas_by_their_labels(world):
    from segmentation.explain import explain
    from tests.factories import AccountScoreFactory

    score = AccountScoreFactory(account=world.north_account, personas=["economic_buyer", "champion"])
    coverage = next(s for s in explain(score)["sentences"] if s.startswith("Buying group"))
    assert coverage.endswith("engaged in the last 90 days (Economic buyer, Champion).")
