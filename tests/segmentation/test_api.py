"""icps/ and scoring-models/ (with preview, publish, restore) and the score on accounts/{id}/."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account
from segmentation.models import ICP, AccountScore, ScoringModel
from tests.factories import AccountFactory, ScoringModelFactory, SignalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


GOOD_CRITERION = {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": 200, "points": 20}


@pytest.mark.parametrize(
    ("criterion", "field", "message"),
    [
        ({**GOOD_CRITERION, "attribute": "shoe_size"}, "attribute", "Unknown attribute 'shoe_size'"),
        ({**GOOD_CRITERION, "attribute": "industry"}, "operator", "`gte` does not apply to industry (text)"),
        ({**GOOD_CRITERION, "operator": "contains"}, "operator", "`contains` does not apply to employee_count"),
        ({**GOOD_CRITERION, "operator": "between", "value": [500, 100]}, "value", "low value first"),
        ({**GOOD_CRITERION, "operator": "eq", "value": "many"}, "value", "employee_count is a number"),
        ({**GOOD_CRITERION, "operator": "like"}, "operator", "Unknown operator 'like'"),
        ({**GOOD_CRITERION, "points": "lots"}, "points", "Points must be a number"),
    ],
)
def test_bad_criteria_are_refused_with_a_field_message(admin_api, criterion, field, message):
    response = admin_api.post("/api/v1/icps/", {"name": "ICP", "criteria": [GOOD_CRITERION, criterion]}, format="json")
    assert response.status_code == 400
    assert message in response.json()["criteria"]["1"][field]
    assert not ICP.objects.exists()


def test_an_admin_creates_an_icp_and_a_draft_reading_it(admin_api):
    response = admin_api.post("/api/v1/icps/", {"name": "ICP", "criteria": [GOOD_CRITERION]}, format="json")
    assert response.status_code == 201, response.json()
    icp_id = response.json()["id"]
    response = admin_api.post(
        "/api/v1/scoring-models/",
        {
            "name": "First",
            "icp": icp_id,
            "signal_rules": [{"kind": "meeting", "points": 10, "half_life_days": 30, "max_points": 20}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["version"]) == ("draft", 1)
    assert body["criteria"] == []  # frozen only at publish


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"w_fit": 0.5, "w_signal": 0.3, "w_coverage": 0.1}, "w_fit", "must sum to 1; they sum to 0.9"),
        ({"w_fit": -0.2, "w_signal": 1.1, "w_coverage": 0.1}, "w_fit", "cannot be negative"),
        ({"tier1_exit": 80, "tier1_enter": 75}, "tier1_exit", "Tier 1 exit (80) must not be above its enter (75)"),
        ({"tier2_enter": 90}, "tier2_enter", "must not rise"),
        ({"required_personas": ["ceo"]}, "required_personas", "Personas are among"),
        ({"mqa_tiers": ["tier_9"]}, "mqa_tiers", "MQA tiers are among"),
        ({"full_signal_points": 0}, "full_signal_points", "above 0"),
    ],
)
def test_bad_model_numbers_are_refused_with_a_field_message(admin_api, change, field, message):
    draft = ScoringModelFactory()
    before = ScoringModel.objects.values().get(pk=draft.pk)
    response = admin_api.patch(f"/api/v1/scoring-models/{draft.pk}/", change, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert ScoringModel.objects.values().get(pk=draft.pk) == before


def test_bad_signal_rules_are_refused_per_rule(admin_api):
    draft = ScoringModelFactory()
    rules = [
        {"kind": "meeting", "points": 10, "half_life_days": 0, "max_points": 20},
        {"kind": "meeting", "points": -1, "half_life_days": 5, "max_points": 20},
    ]
    response = admin_api.patch(f"/api/v1/scoring-models/{draft.pk}/", {"signal_rules": rules}, format="json")
    assert response.status_code == 400
    errors = response.json()["signal_rules"]
    assert "more than 0 days" in errors["0"]["half_life_days"]
    assert "two rules" in errors["1"]["kind"] and "above 0" in errors["1"]["points"]


def test_preview_publish_and_restore_through_the_api(admin_api, django_capture_on_commit_callbacks):
    account = AccountFactory(industry="software", employee_count=500, country="United States")
    SignalFactory(account=account, kind="meeting")
    first = ScoringModelFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/scoring-models/{first.pk}/preview/")
    assert response.status_code == 202
    assert admin_api.get(response.json()["status_url"]).json()["status"] == "succeeded"
    preview = admin_api.get(f"/api/v1/scoring-models/{first.pk}/preview/").json()
    # Nothing is scored yet: every account would enter a tier.
    assert preview["result"]["moved"] == Account.objects.count()
    assert account.pk in {m["account_id"] for m in preview["result"]["moves"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/scoring-models/{first.pk}/publish/")
    assert response.status_code == 202
    assert AccountScore.objects.get(account=account).model_id == first.pk
    assert admin_api.post(f"/api/v1/scoring-models/{first.pk}/publish/").status_code == 409
    assert admin_api.patch(f"/api/v1/scoring-models/{first.pk}/", {"name": "x"}, format="json").status_code == 409
    assert admin_api.delete(f"/api/v1/scoring-models/{first.pk}/").status_code == 409

    second = ScoringModelFactory(icp=first.icp, w_fit=0.2, w_signal=0.7, w_coverage=0.1)
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_api.post(f"/api/v1/scoring-models/{second.pk}/publish/").status_code == 202
        assert admin_api.post(f"/api/v1/scoring-models/{first.pk}/restore/").status_code == 202
    first.refresh_from_db()
    assert first.status == "active"
    assert AccountScore.objects.get(account=account).model_id == first.pk
    assert admin_api.delete(f"/api/v1/icps/{first.icp_id}/").status_code == 409  # versions use it


def test_publishing_an_invalid_draft_lists_the_problems(admin_api):
    icp = ICP.objects.create(name="Broken", criteria=[{**GOOD_CRITERION, "attribute": "shoe_size"}])
    draft = ScoringModelFactory(icp=icp)
    response = admin_api.post(f"/api/v1/scoring-models/{draft.pk}/publish/")
    assert response.status_code == 400
    assert any("No account holds “Shoe size”" in p for p in response.json()["problems"])


def test_the_account_api_carries_the_score_and_its_explanation(world, django_capture_on_commit_callbacks):
    from segmentation.services import model_publish

    account = world.north_account
    SignalFactory(account=account, kind="meeting")
    with django_capture_on_commit_callbacks(execute=True):
        model_publish(model=ScoringModelFactory(), user=None)
    client = APIClient()
    client.force_authenticate(world.north_rep)
    body = client.get(f"/api/v1/accounts/{account.pk}/").json()
    score = AccountScore.objects.get(account=account)
    assert body["tier"] == score.tier and body["unified"] == score.unified
    assert body["score"]["fit"]["value"] == score.fit
    assert body["score"]["signal"]["kinds"][0]["kind"] == "meeting"
    assert body["score"]["sentences"][-1] == body["score"]["tier"]["reason"]
    listed = client.get(f"/api/v1/accounts/?tier={score.tier}&ordering=-score__unified").json()
    assert account.pk in [a["id"] for a in listed["results"]]
    assert client.get("/api/v1/accounts/?tier=tier_9").status_code == 400
    # Reading models is for every role; changing them is not.
    assert client.get("/api/v1/scoring-models/").status_code == 200
    assert client.post("/api/v1/icps/", {"name": "x"}, format="json").status_code == 403


def test_a_key_found_in_accounts_attributes_is_a_known_attribute_everywhere(admin_api, client, world):
    """The API, the editor page and publishing accept a criterion on a key some account's `attributes` holds, and all
    three refuse it once no account holds it."""
    from django.core.exceptions import ValidationError
    from django.urls import reverse

    from segmentation.services import model_publish

    from .test_pages import icp_post

    holder = AccountFactory(attributes={"funding_stage": "series_b"})
    criterion = {"group": "Funding", "attribute": "funding_stage", "operator": "eq", "value": "series_b", "points": 10}
    response = admin_api.post("/api/v1/icps/", {"name": "Funded", "criteria": [criterion]}, format="json")
    assert response.status_code == 201, response.json()
    icp = ICP.objects.get(name="Funded")
    client.force_login(world.admin)
    row = {"attribute": "funding_stage", "operator": "eq", "value": "series_b", "points": "10"}
    assert client.post(reverse("icp-edit", args=[icp.pk]), icp_post([row], name=icp.name)).status_code == 302

    Account.objects.filter(pk=holder.pk).update(attributes={})
    response = admin_api.post("/api/v1/icps/", {"name": "Gone", "criteria": [criterion]}, format="json")
    assert response.status_code == 400
    assert "Unknown attribute 'funding_stage'" in response.json()["criteria"]["0"]["attribute"]
    # The page posts its shown row as an initial form, so it is checked again even though it did not change.
    edit = {**icp_post([row], name=icp.name), "criteria-INITIAL_FORMS": "1"}
    page = client.post(reverse("icp-edit", args=[icp.pk]), edit)
    assert page.status_code == 200 and "No account holds “Funding stage”" in page.content.decode()
    icp.refresh_from_db()
    assert icp.criteria[0]["attribute"] == "funding_stage"  # nothing saved
    with pytest.raises(ValidationError, match="No account holds “Funding stage”"):
        model_publish(model=ScoringModelFactory(icp=icp), user=world.admin)


def test_a_publish_that_commits_while_a_draft_is_patched_stands(admin_api, monkeypatch):
    from segmentation.apis import ScoringModelSerializer

    draft = ScoringModelFactory()
    validate = ScoringModelSerializer.validate

    def published_meanwhile(serializer, attrs):
        ScoringModel.objects.filter(pk=draft.pk).update(status="active", published_at=timezone.now())
        return validate(serializer, attrs)

    monkeypatch.setattr(ScoringModelSerializer, "validate", published_meanwhile)
    response = admin_api.patch(f"/api/v1/scoring-models/{draft.pk}/", {"notes": "a late edit"}, format="json")
    assert response.status_code == 409, response.content
    draft.refresh_from_db()
    assert (draft.status, draft.notes) == ("active", "")


def test_an_icp_patch_writes_only_what_it_changes(admin_api, monkeypatch):
    from segmentation.apis import ICPSerializer

    icp = ICP.objects.create(name="Enterprise", description="old")
    validate = ICPSerializer.validate

    def renamed_meanwhile(serializer, attrs):
        ICP.objects.filter(pk=icp.pk).update(name="Enterprise EMEA")
        return validate(serializer, attrs)

    monkeypatch.setattr(ICPSerializer, "validate", renamed_meanwhile)
    response = admin_api.patch(f"/api/v1/icps/{icp.pk}/", {"description": "new"}, format="json")
    assert response.status_code == 200, response.content
    icp.refresh_from_db()
    assert (icp.name, icp.description) == ("Enterprise EMEA", "new")  # the concurrent rename is kept


def test_signal_rule_kinds_are_read_as_signal_kinds_are(admin_api, world):
    """ "Web Visit" in a rule means the web_visit signals, as it does in a signal; what is no kind is refused alike."""
    from tests.factories import ICPFactory

    rules = [{"kind": "Web Visit", "points": 2, "half_life_days": 14, "max_points": 20},
             {"kind": "  meeting ", "points": 15, "half_life_days": 30, "max_points": 30}]  # fmt: skip
    body = {"name": "Kinds", "icp": ICPFactory().pk, "signal_rules": rules}
    created = admin_api.post("/api/v1/scoring-models/", body, format="json")
    assert created.status_code == 201, created.content
    assert [r["kind"] for r in created.json()["signal_rules"]] == ["web_visit", "meeting"]
    twice = [*rules, {"kind": "web-visit", "points": 1, "half_life_days": 1, "max_points": 1}]
    refused = admin_api.patch(f"/api/v1/scoring-models/{created.json()['id']}/", {"signal_rules": twice}, format="json")
    assert refused.status_code == 400 and "web_visit has two rules" in str(refused.json())
    bad = [{"kind": "web/visit", "points": 2, "half_life_days": 14, "max_points": 20}]
    refused = admin_api.patch(f"/api/v1/scoring-models/{created.json()['id']}/", {"signal_rules": bad}, format="json")
    signal = admin_api.post("/api/v1/signals/", {"account": world.north_account.pk, "kind": "web/visit",
                                                 "occurred_at": "2026-01-01T00:00:00Z"}, format="json")  # fmt: skip
    message = "'web/visit' is not a signal kind (lower_snake_case, e.g. web_visit)."
    assert refused.status_code == 400 and message in str(refused.json())
    assert signal.status_code == 400 and signal.json()["errors"][0]["detail"] == message
    normal = admin_api.post("/api/v1/signals/", {"account": world.north_account.pk, "kind": "Web Visit",
                                                 "occurred_at": "2026-01-01T00:00:00Z"}, format="json")  # fmt: skip
    assert normal.status_code == 201
    assert world.north_account.signals.get().kind == "web_visit"
