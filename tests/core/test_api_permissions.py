"""What the API tells a refused caller: every permission class, for reads and for writes, with a user it must refuse.
A read is never answered with a rule about changing things."""

import pytest
from rest_framework.test import APIClient

from config.api_urls import router
from segmentation.models import ScoringModel
from tests.factories import ScoringModelFactory

pytestmark = pytest.mark.django_db
NO_ROLE = "Your account has no role yet: a RevOps admin must give you one before you can {} {}."


def api_for(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def refused(response, detail: str) -> None:
    assert response.status_code == 403, response.content
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/api/v1/accounts/", "accounts"),
        ("/api/v1/signals/", "signals"),
        ("/api/v1/contacts/", "contacts"),
        ("/api/v1/opportunities/", "opportunities"),
        ("/api/v1/territories/", "territories"),
        ("/api/v1/icps/", "ICPs"),
        ("/api/v1/scoring-models/", "scoring models"),
    ],
)
def test_read_scoped_write_admin_tells_a_user_without_a_role_why_they_may_not_read(world, path, what):
    refused(api_for(world.outsider).get(path), NO_ROLE.format("read", what))
    assert api_for(world.north_rep).get(path).status_code == 200
    assert api_for(None).get(path).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "what"),
    [
        ("/api/v1/accounts/", {"name": "Sneaky"}, "accounts"),
        ("/api/v1/icps/", {"name": "Sneaky ICP"}, "ICPs"),
        ("/api/v1/territories/", {"name": "Sneaky"}, "territories"),
    ],
)
@pytest.mark.parametrize("name", ["outsider", "north_rep", "manager"])
def test_read_scoped_write_admin_refuses_writes_but_to_admins(world, path, body, what, name):
    refused(api_for(getattr(world, name)).post(path, body, format="json"), f"Only RevOps admins may change {what}.")


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/api/v1/handoffs/", "handoffs"),
        ("/api/v1/kpis/", "KPIs"),
        ("/api/v1/jobs/", "jobs"),
        ("/api/v1/auth/tokens/", "API tokens"),
    ],
)
def test_has_role_tells_a_user_without_a_role_what_they_may_not_read(world, path, what):
    refused(api_for(world.outsider).get(path), NO_ROLE.format("read", what))
    assert api_for(world.north_rep).get(path).status_code == 200


def test_has_role_tells_a_user_without_a_role_what_they_may_not_change(world):
    response = api_for(world.outsider).post("/api/v1/handoffs/1/accept/", {}, format="json")
    refused(response, NO_ROLE.format("change", "handoffs"))


def test_admins_only_endpoints_refuse_reads_and_writes_alike(world):
    model = ScoringModelFactory(status=ScoringModel.Status.DRAFT)
    for user in (world.north_rep, world.manager, world.outsider):
        api = api_for(user)
        refused(api.get("/api/v1/users/"), "Only RevOps admins may do this.")
        refused(api.get(f"/api/v1/scoring-models/{model.pk}/preview/"), "Only RevOps admins may do this.")
        refused(api.post("/api/v1/accounts/bulk/", [{"name": "x"}], format="json"), "Only RevOps admins may do this.")


def test_managers_and_admins_only_endpoints_say_so(world):
    for user in (world.north_rep, world.outsider):
        response = api_for(user).post("/api/v1/assignments/preview/", {}, format="json")
        refused(response, "Only managers and RevOps admins may do this.")
    refused(
        api_for(world.north_rep).get("/api/v1/sla-policies/"), "Only managers and RevOps admins may see SLA policies."
    )
    response = api_for(world.manager).post("/api/v1/sla-policies/", {"tier": "tier_3"}, format="json")
    refused(response, "Only RevOps admins may change SLA policies.")


def test_no_list_endpoint_answers_a_read_with_a_rule_about_changes(world):
    """Every list the router serves, read by a user without a role: refused, in words about reading."""
    api = api_for(world.outsider)
    for prefix, _, _ in router.registry:
        response = api.get(f"/api/v1/{prefix}/")
        assert response.status_code == 403, prefix
        detail = response.json()["detail"]
        assert "change" not in detail, (prefix, detail)
