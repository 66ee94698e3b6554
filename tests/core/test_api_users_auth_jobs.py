import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from core.jobs import job_create
from territories.models import Membership


@pytest.fixture
def api():
    return APIClient()


def test_token_auth(api, world):
    response = api.post("/api/v1/auth/token/", {"username": "rep", "password": "pw-for-tests"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert api.post("/api/v1/auth/token/", {"username": "rep", "password": "wrong"}, format="json").status_code == 400
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert {a["id"] for a in api.get("/api/v1/accounts/").json()["results"]} == world.accounts_visible_to("rep")
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api.get("/api/v1/accounts/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_users_api_is_for_admins(api, world):
    for name in ("manager", "rep", "outsider"):
        api.force_authenticate(getattr(world, name))
        assert api.get("/api/v1/users/").status_code == 403
        assert api.post("/api/v1/users/", {"username": "x", "role": "admin"}, format="json").status_code == 403
    assert not User.objects.filter(username="x").exists()
    api.force_authenticate(None)
    assert api.get("/api/v1/users/").status_code == 401


def test_admin_creates_a_rep_in_territories(api, world):
    api.force_authenticate(world.admin)
    response = api.post(
        "/api/v1/users/",
        {
            "username": "newrep",
            "password": "a-Strong-passphrase-42",
            "role": "rep",
            "territories": [world.north.pk, world.south.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["roles"] == ["rep"]
    user = User.objects.get(username="newrep")
    assert user.check_password("a-Strong-passphrase-42")
    assert set(Membership.objects.filter(user=user).values_list("territory__name", "role")) == {
        ("North", "rep"),
        ("South", "rep"),
    }
    # The new rep sees exactly the two territories' accounts.
    api.force_authenticate(user)
    visible = {a["id"] for a in api.get("/api/v1/accounts/").json()["results"]}
    assert visible == {world.owned_by_rep.pk, world.north_account.pk, world.south_account.pk}


def test_user_creation_validation(api, world):
    api.force_authenticate(world.admin)
    response = api.post(
        "/api/v1/users/",
        {"username": "rep", "password": "123", "role": "wizard", "territories": [99999]},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"username", "role", "territories"}
    weak = api.post("/api/v1/users/", {"username": "fresh", "password": "123", "role": "rep"}, format="json")
    assert weak.status_code == 400 and "password" in weak.json()
    admin_in_territory = api.post(
        "/api/v1/users/", {"username": "boss", "role": "admin", "territories": [world.north.pk]}, format="json"
    )
    assert admin_in_territory.status_code == 400 and "territories" in admin_in_territory.json()
    assert not User.objects.filter(username__in=["fresh", "boss"]).exists()


def test_jobs_api_scope(api, world):
    mine = job_create(kind="assign", created_by=world.manager)
    theirs = job_create(kind="import", created_by=world.admin)
    api.force_authenticate(world.manager)
    assert api.get(f"/api/v1/jobs/{mine.pk}/").json()["status"] == "queued"
    assert api.get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
    assert {j["id"] for j in api.get("/api/v1/jobs/").json()["results"]} == {mine.pk}
    api.force_authenticate(world.admin)
    assert {j["id"] for j in api.get("/api/v1/jobs/").json()["results"]} == {mine.pk, theirs.pk}
    api.force_authenticate(world.outsider)
    assert api.get(f"/api/v1/jobs/{mine.pk}/").status_code == 403
    api.force_authenticate(None)
    assert api.get(f"/api/v1/jobs/{mine.pk}/").status_code == 401


def test_schema_and_docs_are_served_locally(api, world):
    assert api.get("/api/schema/").status_code == 401
    api.force_authenticate(world.north_rep)
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/accounts/",
        "/api/v1/accounts/bulk/",
        "/api/v1/signals/",
        "/api/v1/users/",
        "/api/v1/jobs/{id}/",
        "/api/v1/auth/token/",
    ):
        assert path in text
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "https://" not in html and "http://" not in html.replace("http://testserver", "")
