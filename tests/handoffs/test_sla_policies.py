"""SLA policies: the defaults, the admins' editor pages and /api/v1/sla-policies/ (managers read, admins write)."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from rest_framework.test import APIClient

from handoffs.models import SlaPolicy

pytestmark = pytest.mark.django_db

FIELDS = ["accept_within_hours", "calendar", "time_zone", "working_days", "start_hour", "end_hour", "breach_action"]


def snapshot() -> dict:
    return {
        p.tier: {f: getattr(p, f) for f in [*FIELDS, "updated_by_id", "updated_at"]} for p in SlaPolicy.objects.all()
    }


def form_data(policy: SlaPolicy | None = None, **changes) -> dict:
    data = {
        "accept_within_hours": policy.accept_within_hours if policy else 4,
        "calendar": policy.calendar if policy else "business_hours",
        "time_zone": policy.time_zone if policy else "UTC",
        "working_days": [str(d) for d in (policy.working_days if policy else [0, 1, 2, 3, 4])],
        "start_hour": policy.start_hour if policy else 9,
        "end_hour": policy.end_hour if policy else 17,
        "breach_action": policy.breach_action if policy else "notify_manager",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def api_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- Defaults -------------------------------------------------------------------------------------------------


def test_each_tier_has_a_sensible_default_policy():
    rows = {
        p.tier: (p.accept_within_hours, p.calendar, p.breach_action, p.time_zone, p.working_days, p.start_hour,
                 p.end_hour)
        for p in SlaPolicy.objects.all()
    }  # fmt: skip
    weekdays = [0, 1, 2, 3, 4]
    assert rows == {
        "tier_1": (4, "business_hours", "notify_manager", "UTC", weekdays, 9, 17),
        "tier_2": (24, "business_hours", "reassign", "UTC", weekdays, 9, 17),
        "tier_3": (72, "24x7", "recycle", "UTC", weekdays, 9, 17),
    }


def _apps_when_written():
    """The models as the migration saw them (SLA policies lived in territories then; the table is the same)."""
    return MigrationLoader(connection).project_state(("territories", "0004_default_sla_policies")).apps


def test_the_defaults_never_overwrite_a_policy_and_fill_a_missing_tier():
    migration = importlib.import_module("territories.migrations.0004_default_sla_policies")
    SlaPolicy.objects.filter(tier="tier_1").update(accept_within_hours=2, time_zone="Europe/Berlin")
    SlaPolicy.objects.filter(tier="tier_3").delete()
    migration.create(_apps_when_written(), None)
    tier_1 = SlaPolicy.objects.get(tier="tier_1")
    assert (tier_1.accept_within_hours, tier_1.time_zone) == (2, "Europe/Berlin")
    assert SlaPolicy.objects.get(tier="tier_3").accept_within_hours == 72
    assert SlaPolicy.objects.count() == 3


# --- Pages ----------------------------------------------------------------------------------------------------


def test_admins_see_every_tiers_policy(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("sla-policy-list")).content.decode()
    for text in ("Tier 1", "Tier 2", "Tier 3", "4 h", "24 h", "72 h", "Business hours", "24x7", "Mon–Fri",
                 "09:00–17:00", "Notify the manager", "Reassign to the next eligible member", "Recycle the account",
                 "by system"):  # fmt: skip
        assert text in page, text
    for tier in ("tier_1", "tier_2", "tier_3"):
        assert reverse("sla-policy-edit", args=[tier]) in page
    # The territories board links to the page for admins only.
    assert reverse("sla-policy-list") in client.get(reverse("territory-list")).content.decode()
    client.force_login(world.manager)
    assert reverse("sla-policy-list") not in client.get(reverse("territory-list")).content.decode()


def test_an_admin_edits_a_policy_and_it_records_who(client, world):
    before = snapshot()
    client.force_login(world.admin)
    form = client.get(reverse("sla-policy-edit", args=["tier_1"]))
    assert form.status_code == 200 and "SLA policy for Tier 1" in form.content.decode()
    assert snapshot() == before  # a GET changes nothing
    response = client.post(
        reverse("sla-policy-edit", args=["tier_1"]),
        form_data(
            SlaPolicy.objects.get(tier="tier_1"),
            accept_within_hours=6,
            time_zone="Europe/Berlin",
            working_days=["0", "1", "2", "3"],
            start_hour=8,
            end_hour=18,
            breach_action="reassign",
        ),
    )
    assert response.status_code == 302 and response["Location"] == reverse("sla-policy-list")
    policy = SlaPolicy.objects.get(tier="tier_1")
    assert (policy.accept_within_hours, policy.time_zone, policy.working_days, policy.start_hour, policy.end_hour,
            policy.breach_action, policy.updated_by) == (6, "Europe/Berlin", [0, 1, 2, 3], 8, 18, "reassign",
                                                         world.admin)  # fmt: skip
    page = client.get(response["Location"]).content.decode()
    assert (
        "Saved the Tier 1 SLA policy: accept within 6 business hours (Mon–Thu 08:00–18:00 Europe/Berlin), "
        "then reassign to the next eligible member." in page
    )
    assert world.admin.get_full_name() in page
    after = snapshot()
    assert after["tier_2"] == before["tier_2"] and after["tier_3"] == before["tier_3"]


def test_a_tier_without_a_policy_gets_one_created(client, world):
    SlaPolicy.objects.filter(tier="tier_2").delete()
    client.force_login(world.admin)
    assert "No policy for this tier yet" in client.get(reverse("sla-policy-list")).content.decode()
    assert client.get(reverse("sla-policy-edit", args=["tier_2"])).status_code == 200
    assert not SlaPolicy.objects.filter(tier="tier_2").exists()  # a GET changes nothing
    response = client.post(
        reverse("sla-policy-edit", args=["tier_2"]),
        form_data(accept_within_hours=48, calendar="24x7", breach_action="recycle", working_days=["4", "0", "0"]),
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(tier="tier_2")
    assert (policy.accept_within_hours, policy.calendar, policy.breach_action, policy.updated_by) == (
        48,
        "24x7",
        "recycle",
        world.admin,
    )
    assert policy.working_days == [0, 4]


@pytest.mark.parametrize("tier", ["tier_4", "suppress", "recycle"])
def test_only_the_three_tiers_have_a_policy_page(client, world, tier):
    client.force_login(world.admin)
    assert client.get(reverse("sla-policy-edit", args=[tier])).status_code == 404
    assert client.post(reverse("sla-policy-edit", args=[tier]), form_data()).status_code == 404
    assert not SlaPolicy.objects.filter(tier=tier).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accept_within_hours": "0"}, "Accept within 1 to 720 hours."),
        ({"accept_within_hours": "721"}, "Accept within 1 to 720 hours."),
        ({"accept_within_hours": "-3"}, "Accept within 1 to 720 hours."),
        ({"accept_within_hours": ""}, "Accept within 1 to 720 hours."),
        ({"accept_within_hours": "four"}, "Enter a whole number of hours."),
        ({"calendar": "lunar"}, "Choose 24x7 or business hours."),
        ({"time_zone": ""}, "Give a time zone, e.g. Europe/Berlin."),
        ({"time_zone": "Mars/Olympus_Mons"}, "Unknown time zone “Mars/Olympus_Mons”: use an IANA name such as"),
        ({"working_days": []}, "Pick at least one working day."),
        ({"working_days": ["7"]}, "Working days are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"start_hour": "24"}, "The working day starts at an hour from 0 to 23."),
        ({"start_hour": "-1"}, "The working day starts at an hour from 0 to 23."),
        ({"start_hour": "nine"}, "The working day starts at an hour from 0 to 23."),
        ({"end_hour": "25"}, "The working day ends at an hour from 1 to 24."),
        ({"end_hour": ""}, "The working day ends at an hour from 1 to 24."),
        ({"end_hour": "9"}, "The working day must end after it starts."),
        ({"start_hour": "18", "end_hour": "17"}, "The working day must end after it starts."),
        ({"breach_action": "shrug"}, "Choose a breach action from the list."),
        ({"breach_action": ""}, "Choose what happens when the SLA is breached."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(client, world, changes, message):
    before = snapshot()
    client.force_login(world.admin)
    response = client.post(
        reverse("sla-policy-edit", args=["tier_1"]), form_data(SlaPolicy.objects.get(tier="tier_1"), **changes)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "The policy was not saved" in page
    assert snapshot() == before


@pytest.mark.parametrize("name", ["rep", "north_rep", "manager", "other_manager", "outsider"])
def test_only_admins_open_or_change_the_policy_pages(client, world, name):
    before = snapshot()
    client.force_login(getattr(world, name))
    assert client.get(reverse("sla-policy-list")).status_code == 403
    assert client.get(reverse("sla-policy-edit", args=["tier_1"])).status_code == 403
    response = client.post(reverse("sla-policy-edit", args=["tier_1"]), form_data(accept_within_hours=1))
    assert response.status_code == 403
    assert snapshot() == before


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    before = snapshot()
    for url in (reverse("sla-policy-list"), reverse("sla-policy-edit", args=["tier_1"])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = client.post(reverse("sla-policy-edit", args=["tier_1"]), form_data(accept_within_hours=1))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert snapshot() == before


# --- API ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["manager", "other_manager", "admin"])
def test_managers_and_admins_read_the_policies(world, name):
    api = api_for(getattr(world, name))
    body = api.get("/api/v1/sla-policies/").json()
    assert [row["tier"] for row in body["results"]] == ["tier_1", "tier_2", "tier_3"]
    tier_1 = SlaPolicy.objects.get(tier="tier_1")
    row = api.get(f"/api/v1/sla-policies/{tier_1.pk}/").json()
    assert row == {
        "id": tier_1.pk,
        "tier": "tier_1",
        "accept_within_hours": 4,
        "calendar": "business_hours",
        "time_zone": "UTC",
        "working_days": [0, 1, 2, 3, 4],
        "start_hour": 9,
        "end_hour": 17,
        "holiday_country": "",
        "holiday_subdivision": "",
        "closed_dates": [],
        "breach_action": "notify_manager",
        "clock": "4 business hours (Mon–Fri 09:00–17:00 UTC)",
        "updated_at": row["updated_at"],
        "updated_by": None,
    }


@pytest.mark.parametrize(("name", "status"), [("rep", 403), ("north_rep", 403), ("outsider", 403), (None, 401)])
def test_reps_outsiders_and_anonymous_users_read_nothing(world, name, status):
    api = api_for(getattr(world, name) if name else None)
    pk = SlaPolicy.objects.get(tier="tier_1").pk
    for url in ("/api/v1/sla-policies/", f"/api/v1/sla-policies/{pk}/"):
        response = api.get(url)
        assert response.status_code == status
        assert "business_hours" not in response.content.decode()


def test_an_admin_changes_a_policy(world):
    api = api_for(world.admin)
    policy = SlaPolicy.objects.get(tier="tier_2")
    response = api.patch(
        f"/api/v1/sla-policies/{policy.pk}/", {"time_zone": "America/New_York", "working_days": [0, 2, 4, 2]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["clock"] == "24 business hours (Mon, Wed, Fri 09:00–17:00 America/New_York)"
    assert response.json()["updated_by"] == world.admin.pk
    policy.refresh_from_db()
    assert (policy.time_zone, policy.working_days, policy.updated_by) == ("America/New_York", [0, 2, 4], world.admin)
    body = {**form_data(policy), "working_days": [5, 6], "tier": "tier_2", "calendar": "24x7"}
    response = api.put(f"/api/v1/sla-policies/{policy.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    policy.refresh_from_db()
    assert (policy.calendar, policy.working_days) == ("24x7", [5, 6])


def test_an_admin_creates_the_policy_of_a_tier_that_has_none_and_only_one(world):
    SlaPolicy.objects.filter(tier="tier_3").delete()
    api = api_for(world.admin)
    response = api.post("/api/v1/sla-policies/", {"tier": "tier_3", "accept_within_hours": 12}, format="json")
    assert response.status_code == 201, response.content
    policy = SlaPolicy.objects.get(tier="tier_3")
    assert (policy.accept_within_hours, policy.calendar, policy.working_days, policy.updated_by) == (
        12,
        "business_hours",
        [0, 1, 2, 3, 4],
        world.admin,
    )
    again = api.post("/api/v1/sla-policies/", {"tier": "tier_3", "accept_within_hours": 1}, format="json")
    assert again.status_code == 400
    assert again.json() == {"tier": ["Tier 3 already has an SLA policy; change that one."]}
    assert SlaPolicy.objects.get(tier="tier_3").accept_within_hours == 12


def test_a_policy_keeps_its_tier_and_is_never_deleted(world):
    api = api_for(world.admin)
    policy = SlaPolicy.objects.get(tier="tier_1")
    response = api.patch(f"/api/v1/sla-policies/{policy.pk}/", {"tier": "tier_2"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"tier": ["A policy's tier cannot change; edit the other tier's policy."]}
    assert api.delete(f"/api/v1/sla-policies/{policy.pk}/").status_code == 405
    assert api_for(world.manager).delete(f"/api/v1/sla-policies/{policy.pk}/").status_code == 403
    assert SlaPolicy.objects.filter(pk=policy.pk, tier="tier_1").exists()


@pytest.mark.parametrize(
    ("name", "status", "detail"),
    [
        ("manager", 403, "Only RevOps admins may change SLA policies."),
        ("rep", 403, "Only RevOps admins may change SLA policies."),
        ("outsider", 403, "Only RevOps admins may change SLA policies."),
        (None, 401, None),
    ],
)
def test_only_admins_write_through_the_api(world, name, status, detail):
    before = snapshot()
    SlaPolicy.objects.filter(tier="tier_3").delete()
    before.pop("tier_3")
    api = api_for(getattr(world, name) if name else None)
    pk = SlaPolicy.objects.get(tier="tier_1").pk
    answers = [
        api.patch(f"/api/v1/sla-policies/{pk}/", {"accept_within_hours": 1}, format="json"),
        api.put(f"/api/v1/sla-policies/{pk}/", {"tier": "tier_1", "accept_within_hours": 1}, format="json"),
        api.post("/api/v1/sla-policies/", {"tier": "tier_3", "accept_within_hours": 1}, format="json"),
    ]
    for response in answers:
        assert response.status_code == status
        if detail:
            assert response.json() == {"detail": detail}
    assert snapshot() == before


def test_reps_are_told_who_may_read_the_policies(world):
    response = api_for(world.north_rep).get("/api/v1/sla-policies/")
    assert response.json() == {"detail": "Only managers and RevOps admins may see SLA policies."}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"accept_within_hours": 0}, {"accept_within_hours": ["Accept within 1 to 720 hours."]}),
        ({"accept_within_hours": 10**30}, {"accept_within_hours": ["Accept within 1 to 720 hours."]}),
        ({"accept_within_hours": "many"}, {"accept_within_hours": ["A valid integer is required."]}),
        ({"calendar": "lunar"}, {"calendar": ['"lunar" is not a valid choice.']}),
        ({"time_zone": ""}, {"time_zone": ["This field may not be blank."]}),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            {"time_zone": ["Unknown time zone “Mars/Olympus_Mons”: use an IANA name such as Europe/Berlin."]},
        ),
        (
            {"time_zone": "Europe/Atlantis"},
            {"time_zone": ["Unknown time zone “Europe/Atlantis”: use an IANA name such as Europe/Berlin."]},
        ),
        ({"working_days": []}, {"working_days": ["Pick at least one working day."]}),
        ({"working_days": [1, 9]}, {"working_days": ["Working days are numbers from 0 (Monday) to 6 (Sunday)."]}),
        ({"working_days": "weekdays"}, {"working_days": ['Expected a list of items but got type "str".']}),
        ({"start_hour": 24}, {"start_hour": ["The working day starts at an hour from 0 to 23."]}),
        ({"start_hour": -1}, {"start_hour": ["The working day starts at an hour from 0 to 23."]}),
        ({"end_hour": 25}, {"end_hour": ["The working day ends at an hour from 1 to 24."]}),
        # The stored start (09) is compared with a new end, and a new start with the stored end (17).
        ({"end_hour": 9}, {"end_hour": ["The working day must end after it starts."]}),
        ({"start_hour": 17}, {"end_hour": ["The working day must end after it starts."]}),
        ({"breach_action": "shrug"}, {"breach_action": ['"shrug" is not a valid choice.']}),
        (
            {"accept_within_hours": 0, "time_zone": "Nowhere"},
            {
                "accept_within_hours": ["Accept within 1 to 720 hours."],
                "time_zone": ["Unknown time zone “Nowhere”: use an IANA name such as Europe/Berlin."],
            },
        ),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_changes_nothing(world, body, errors):
    before = snapshot()
    api = api_for(world.admin)
    pk = SlaPolicy.objects.get(tier="tier_1").pk
    response = api.patch(f"/api/v1/sla-policies/{pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert snapshot() == before


def test_a_new_policy_with_a_bad_clock_is_not_created(world):
    SlaPolicy.objects.filter(tier="tier_3").delete()
    response = api_for(world.admin).post(
        "/api/v1/sla-policies/",
        {"tier": "tier_3", "accept_within_hours": 8, "time_zone": "Moon/Tranquility", "working_days": []},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"time_zone", "working_days"}
    missing = api_for(world.admin).post("/api/v1/sla-policies/", {}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == {"tier", "accept_within_hours"}
    assert not SlaPolicy.objects.filter(tier="tier_3").exists()


def test_the_schema_documents_the_policies(world):
    text = api_for(world.admin).get("/api/schema/").content.decode()
    assert "/api/v1/sla-policies/" in text and "/api/v1/sla-policies/{id}/" in text
    assert "SlaPolicy" in text
