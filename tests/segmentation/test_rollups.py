"""A parent account's group score (both rules, by hand), its subsidiaries as each role may see them, on the account
page and in the account API; the explanation naming a capped contact; the settings on the model editor."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Contact, Signal
from segmentation.explain import explain
from segmentation.models import AccountScore, GroupRollup, ScoringModel
from segmentation.rollups import account_group
from segmentation.services import model_draft_create, model_publish, model_restore
from tests.factories import AccountFactory, AccountScoreFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db


def scored(account, model, *, fit, signal, coverage, unified, tier):
    return AccountScoreFactory(
        account=account, model=model, fit=fit, signal=signal, coverage=coverage, unified=unified, tier=tier
    )


@pytest.fixture
def group(world):
    """Globex (North, the parent), with three subsidiaries: Globex UK (North), Globex DE (South: outside the North
    manager's and reps' territories) and Globex US (North-East)."""
    model = ScoringModelFactory(status=ScoringModel.Status.ACTIVE, w_fit=0.6, w_signal=0.3, w_coverage=0.1)
    parent = AccountFactory(name="Globex", territory=world.north, owner=world.north_rep)
    uk = AccountFactory(name="Globex UK", territory=world.north, parent=parent)
    de = AccountFactory(name="Globex DE", territory=world.south, parent=parent)
    us = AccountFactory(name="Globex US", territory=world.north_east, parent=parent)
    scored(parent, model, fit=80, signal=10, coverage=0.5, unified=56.0, tier="tier_2")
    scored(uk, model, fit=50, signal=30, coverage=0, unified=39.0, tier="tier_3")
    scored(de, model, fit=90, signal=35.5, coverage=1, unified=74.7, tier="tier_2")
    scored(us, model, fit=40, signal=40, coverage=0, unified=36.0, tier="tier_3")
    return model, parent, {"uk": uk, "de": de, "us": us}


def test_highest_score_in_the_group_by_hand(world, group):
    model, parent, children = group
    found = account_group(user=world.admin, account=parent)
    assert (found["rule"], found["own"], found["value"]) == ("max", 56.0, 74.7)  # Globex DE's 74.7
    assert found["sentence"] == "Highest score in the group: 74.7, held by Globex DE."
    # Best first: DE 74.7, UK 39, US 36.
    assert [(c["name"], c["tier_label"], c["unified"]) for c in found["children"]] == [
        ("Globex DE", "Tier 2", 74.7),
        ("Globex UK", "Tier 3", 39.0),
        ("Globex US", "Tier 3", 36.0),
    ]
    # The North manager may not see Globex DE: the group's score is the group's, but DE is never named.
    managed = account_group(user=world.manager, account=parent)
    assert managed["value"] == 74.7
    assert managed["sentence"] == "Highest score in the group: 74.7, held by a subsidiary outside your territories."
    assert [c["name"] for c in managed["children"]] == ["Globex UK", "Globex US"]
    assert managed["outside_scope"] == 1


def test_sum_of_the_groups_signals_by_hand(world, group):
    """Signals 10 + 30 + 35.5 + 40 = 115.5, capped at 100; 0.6 × 80 + 0.3 × 100 + 0.1 × 100 × 0.5 = 83."""
    model, parent, children = group
    model.group_rollup = GroupRollup.SUM_SIGNALS
    model.save()
    found = account_group(user=world.admin, account=parent)
    assert (found["rule"], found["value"]) == ("sum_signals", 83.0)
    # Below the cap: without Globex DE and US, 10 + 30 = 40: 0.6 × 80 + 0.3 × 40 + 5 = 65.
    AccountScore.objects.filter(account__in=[children["de"], children["us"]]).delete()
    assert account_group(user=world.admin, account=parent)["value"] == 65.0
    assert "Group signal 40" in account_group(user=world.admin, account=parent)["sentence"]


def test_an_account_without_subsidiaries_has_no_group(world, group):
    _, _, children = group
    assert account_group(user=world.admin, account=children["uk"]) is None


def test_the_page_of_an_account_without_subsidiaries_asks_nothing_about_them(client, world, group):
    """Whether any account names it as parent is read with the account (most have no subsidiaries): no count of them,
    no group section. A parent's page still shows its group (below)."""
    _, _, children = group
    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("account-detail", args=[children["uk"].pk])).content.decode()
    assert 'id="group"' not in page and "Globex UK" in page
    asked = [q["sql"] for q in captured.captured_queries if '"parent_id" =' in q["sql"] and "COUNT(" in q["sql"]]
    assert asked == []


@pytest.mark.parametrize(
    ("user", "listed", "outside"),
    [
        ("admin", {"Globex DE", "Globex UK", "Globex US"}, 0),
        ("manager", {"Globex UK", "Globex US"}, 1),
        ("north_rep", {"Globex UK"}, 2),  # a member of North only: not North-East, not South
    ],
)
def test_the_account_page_lists_only_the_subsidiaries_in_scope(client, world, group, user, listed, outside):
    _, parent, _ = group
    client.force_login(getattr(world, user))
    page = client.get(reverse("account-detail", args=[parent.pk])).content.decode()
    assert 'id="group"' in page
    for name in ("Globex DE", "Globex UK", "Globex US"):
        assert (f">{name}</a>" in page) == (name in listed), name
    if outside:
        assert f"And {outside} more outside your territories." in page
    else:
        assert "outside your territories" not in page
    assert '<span class="display-6">56.0</span>' in page and '<span class="display-6">74.7</span>' in page


def test_the_account_api_gives_the_group_score_scoped(client, world, group):
    _, parent, _ = group
    client.force_login(world.north_rep)
    body = client.get(f"/api/v1/accounts/{parent.pk}/").json()
    assert body["group_score"]["rule"] == "max"
    assert body["group_score"]["value"] == 74.7 and body["group_score"]["own"] == 56.0
    assert [c["name"] for c in body["group_score"]["children"]] == ["Globex UK"]
    assert body["group_score"]["children"][0]["tier"] == "tier_3"
    assert body["group_score"]["children"][0]["tier_label"] == "Tier 3"
    assert body["group_score"]["outside_scope"] == 2
    assert "Globex DE" not in str(body) and "Globex US" not in str(body)
    child = client.get(f"/api/v1/accounts/{AccountScore.objects.get(unified=39.0).account_id}/").json()
    assert child["group_score"] is None


def test_the_explanation_names_the_capped_contact(world):
    model = ScoringModelFactory(
        status=ScoringModel.Status.ACTIVE,
        contact_cap=30,
        signal_rules=[{"kind": "web_visit", "points": 5, "half_life_days": 3000, "max_points": 200}],
    )
    account = AccountFactory(name="Acme")
    jane = Contact.objects.create(account=account, name="Jane Doe", email="jane@acme.example")
    john = Contact.objects.create(account=account, name="John Roe", email="john@acme.example")
    now = timezone.now()
    for _ in range(17):
        Signal.objects.create(account=account, contact=jane, kind="web_visit", occurred_at=now)
    Signal.objects.create(account=account, contact=john, kind="web_visit", occurred_at=now)
    score = scored(account, model, fit=0, signal=35, coverage=0, unified=10.5, tier="recycle")
    score.as_of = now + dt.timedelta(seconds=1)
    score.save()
    explained = explain(score)
    assert "Signals from Jane Doe capped at 30 points (had 85)." in explained["sentences"]
    assert not any("John Roe" in s for s in explained["sentences"])
    assert explained["signal"]["raw"] == pytest.approx(35.0, abs=0.01)  # 30 + 5
    # No cap: nobody is named and the points count in full.
    model.contact_cap = None
    model.save()
    explained = explain(AccountScore.objects.select_related("model").get(pk=score.pk))
    assert not any("capped at 30" in s for s in explained["sentences"])
    assert explained["signal"]["raw"] == pytest.approx(90.0, abs=0.01)


def test_the_settings_survive_new_drafts_publish_and_restore(world):
    live = ScoringModelFactory(contact_cap=25, group_rollup=GroupRollup.SUM_SIGNALS)
    model_publish(model=live, user=world.admin)
    draft = model_draft_create(user=world.admin)  # from the active version, as recalibration drafts are
    assert (draft.contact_cap, draft.group_rollup) == (25, "sum_signals")
    draft.contact_cap, draft.group_rollup = None, GroupRollup.HIGHEST
    draft.save()
    model_publish(model=draft, user=world.admin)
    model_restore(model=ScoringModel.objects.get(pk=live.pk), user=world.admin)
    live.refresh_from_db()
    assert (live.status, live.contact_cap, live.group_rollup) == ("active", 25, "sum_signals")


def _form_data(model, **changes):
    data = {
        "name": model.name, "icp": model.icp_id, "notes": "", "w_fit": 0.6, "w_signal": 0.3, "w_coverage": 0.1,
        "full_signal_points": 100, "lookback_days": 365, "engagement_window_days": 90, "tier1_enter": 75,
        "tier1_exit": 70, "tier1_min_fit": 70, "tier2_enter": 55, "tier2_exit": 50, "tier2_min_fit": 50,
        "tier3_enter": 35, "tier3_exit": 30, "tier3_min_fit": 30, "min_days_in_tier": 14, "surge_window_days": 7,
        "surge_delta": 20, "surge_hold_days": 14, "mqa_signal_min": 30, "rejection_cooldown_days": 30,
        "contact_cap": "", "group_rollup": "max",
        "rules-TOTAL_FORMS": 1, "rules-INITIAL_FORMS": 0, "rules-0-kind": "Web visit", "rules-0-points": 5,
        "rules-0-half_life_days": 30, "rules-0-max_points": 40,
    }  # fmt: skip
    data.update(changes)
    return data


def test_the_model_editor_sets_the_cap_and_the_group_rule(client, world):
    draft = ScoringModelFactory()
    client.force_login(world.admin)
    url = reverse("model-edit", args=[draft.pk])
    form = client.get(url).content.decode()
    assert "Signal points per contact" in form and "Group score" in form
    assert "Sum of the group&#x27;s signals" in form
    response = client.post(url, _form_data(draft, contact_cap="30", group_rollup="sum_signals"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.contact_cap, draft.group_rollup) == (30.0, "sum_signals")
    detail = client.get(reverse("model-detail", args=[draft.pk])).content.decode()
    assert "at most 30 points from any one contact&#x27;s signals" in detail.lower()
    assert "sum of the group&#x27;s signals" in detail.lower()
    # Blank: no cap.
    assert client.post(url, _form_data(draft, contact_cap="")).status_code == 302
    draft.refresh_from_db()
    assert (draft.contact_cap, draft.group_rollup) == (None, "max")


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"contact_cap": "-5"}, "A contact&#x27;s cap is a number of signal points above 0"),
        ({"contact_cap": "0"}, "A contact&#x27;s cap is a number of signal points above 0"),
        ({"contact_cap": "thirty"}, "Enter a number."),
        ({"group_rollup": "average"}, "Select a valid choice."),
    ],
)
def test_the_model_editor_refuses_a_bad_cap_or_rule_and_keeps_what_was_typed(client, world, changes, field_error):
    draft = ScoringModelFactory(contact_cap=12)
    client.force_login(world.admin)
    response = client.post(reverse("model-edit", args=[draft.pk]), _form_data(draft, notes="kept", **changes))
    assert response.status_code == 200
    page = response.content.decode()
    assert field_error in page
    assert "kept</textarea>" in page  # what was typed stays
    typed = changes.get("contact_cap")
    if typed is not None:
        assert f'value="{typed}"' in page
    draft.refresh_from_db()
    assert draft.contact_cap == 12 and draft.notes == ""


def test_the_api_refuses_a_negative_cap(client, world):
    draft = ScoringModelFactory()
    client.force_login(world.admin)
    response = client.patch(f"/api/v1/scoring-models/{draft.pk}/", {"contact_cap": -1}, content_type="application/json")
    assert response.status_code == 400
    assert "contact_cap" in response.json()
