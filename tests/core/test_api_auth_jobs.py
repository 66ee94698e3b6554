"""Token auth, 401 for anonymous callers everywhere, /api/v1/jobs/ scope, and the local OpenAPI docs."""

import pytest
from django.urls import URLPattern, reverse
from rest_framework.test import APIClient

from config import api_urls
from core.jobs import job_create
from core.models import ApiToken
from core.tokens import token_create

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def api():
    return APIClient()


def test_a_token_for_a_good_password_works(api, world):
    response = api.post(TOKEN_URL, {"username": "north_rep", "password": "pw-for-tests"}, format="json")
    assert response.status_code == 200 and set(response.json()) == {"token", "name", "expires_at"}
    token = response.json()["token"]
    # Only the key's digest is stored, so asking again makes a second token (the first cannot be shown again).
    again = api.post(TOKEN_URL, {"username": "north_rep", "password": "pw-for-tests"}, format="json")
    assert again.json()["token"] != token and ApiToken.objects.filter(user=world.north_rep).count() == 2
    assert not ApiToken.objects.filter(digest=token).exists() and token not in str(list(ApiToken.objects.values()))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = api.get("/api/v1/accounts/")
    assert listed.status_code == 200
    assert {a["id"] for a in listed.json()["results"]} == world.accounts_visible_to("north_rep")
    # A form post works too.
    form = APIClient().post(TOKEN_URL, {"username": "north_rep", "password": "pw-for-tests"})
    assert form.status_code == 200 and form.json()["token"].startswith("rvo_")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "rep", "password": "wrong"}, "non_field_errors"),
        ({"username": "nobody", "password": "pw-for-tests"}, "non_field_errors"),
        ({"username": "rep"}, "password"),
        ({"password": "pw-for-tests"}, "username"),
        ({"username": "", "password": ""}, "username"),
    ],
)
def test_bad_credentials_are_400_with_a_message(api, world, body, field):
    response = api.post(TOKEN_URL, body, format="json")
    assert response.status_code == 400 and response.json()[field]
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(api, world):
    world.rep.is_active = False
    world.rep.save(update_fields=["is_active"])
    response = api.post(TOKEN_URL, {"username": "rep", "password": "pw-for-tests"}, format="json")
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_a_bad_or_revoked_token_is_401(api, world):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api.get("/api/v1/accounts/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token."}
    token, key = token_create(world.rep, name="tests")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/accounts/").status_code == 200
    token.delete()
    assert api.get("/api/v1/accounts/").status_code == 401


def test_an_outsider_with_a_token_still_sees_nothing(api, world):
    token = api.post(TOKEN_URL, {"username": "outsider", "password": "pw-for-tests"}, format="json").json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for url in ("/api/v1/accounts/", "/api/v1/signals/", "/api/v1/jobs/", "/api/v1/territories/"):
        response = api.get(url)
        assert response.status_code == 403 and "results" not in response.json()


def api_routes():
    """Every /api/v1/ route but the token one, with a placeholder id where the route takes one."""
    for pattern in api_urls.urlpatterns:
        if not isinstance(pattern, URLPattern) or "format" in pattern.pattern.regex.groupindex:
            continue
        if pattern.name in (None, "token"):
            continue
        kwargs = {name: 1 for name in pattern.pattern.regex.groupindex}
        yield reverse(f"api:{pattern.name}", kwargs=kwargs)


@pytest.mark.parametrize("url", sorted(set(api_routes())))
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_anonymous_gets_401_json_everywhere(api, world, url, method):
    response = getattr(api, method)(url, {}, format="json")
    assert response.status_code == 401, (method, url, response.status_code)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_the_route_list_covers_the_product_endpoints():
    urls = set(api_routes())
    for expected in ("/api/v1/accounts/", "/api/v1/accounts/bulk/", "/api/v1/signals/", "/api/v1/users/"):
        assert expected in urls
    assert "/api/v1/jobs/1/" in urls


@pytest.fixture
def jobs(world):
    return {
        "manager": job_create(kind="assign", created_by=world.manager, title="North assignment", total=10),
        "north_rep": job_create(kind="other", created_by=world.north_rep),
        "admin": job_create(kind="import", created_by=world.admin),
    }


@pytest.mark.parametrize(
    "name", ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep", "outsider"]
)
def test_jobs_are_read_by_their_starter_and_admins_only(api, world, jobs, name):
    api.force_authenticate(getattr(world, name))
    if name == "outsider":
        assert api.get("/api/v1/jobs/").status_code == 403
        assert all(api.get(f"/api/v1/jobs/{job.pk}/").status_code == 403 for job in jobs.values())
        return
    mine = {job.pk for starter, job in jobs.items() if name in (starter, "admin")}
    assert {j["id"] for j in api.get("/api/v1/jobs/").json()["results"]} == mine
    for job in jobs.values():
        response = api.get(f"/api/v1/jobs/{job.pk}/")
        if job.pk in mine:
            assert response.status_code == 200 and response.json()["kind"] == job.kind
        else:
            assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_a_job_shows_its_status_and_progress(api, world, jobs):
    from core.jobs import job_progress, job_start

    job = jobs["manager"]
    job_start(job=job)
    job_progress(job=job, done=4)
    api.force_authenticate(world.manager)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["status"], body["done"], body["total"], body["percent"]) == ("running", 4, 10, 40)
    assert body["created_by"] == "manager"
    assert api.get("/api/v1/jobs/", {"status": "running"}).json()["count"] == 1
    assert api.get("/api/v1/jobs/", {"status": "nonsense"}).status_code == 400


def test_jobs_are_read_only_and_anonymous_gets_401(api, world, jobs):
    job = jobs["manager"]
    assert api.get(f"/api/v1/jobs/{job.pk}/").status_code == 401
    api.force_authenticate(world.admin)
    assert api.delete(f"/api/v1/jobs/{job.pk}/").status_code == 405
    assert api.patch(f"/api/v1/jobs/{job.pk}/", {"status": "failed"}, format="json").status_code == 405
    job.refresh_from_db()
    assert job.status == "queued"


def test_schema_and_docs_are_served_locally(api, world):
    assert api.get("/api/schema/").status_code == 401
    api.force_authenticate(world.outsider)
    assert api.get("/api/docs/").status_code == 403
    api.force_authenticate(world.north_rep)
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/accounts/",
        "/api/v1/accounts/{id}/",
        "/api/v1/accounts/bulk/",
        "/api/v1/signals/",
        "/api/v1/contacts/",
        "/api/v1/opportunities/",
        "/api/v1/territories/",
        "/api/v1/memberships/",
        "/api/v1/users/",
        "/api/v1/jobs/{id}/",
        "/api/v1/auth/token/",
    ):
        assert f"{path}:" in text, path
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    # The init script that names the schema comes from /api/docs/?script, not inline (core/csp.py).
    html = docs.content.decode() + api.get("/api/docs/", {"script": ""}).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html and "/api/schema/" in html
    assert "https://" not in html and "http://" not in html.replace("http://testserver", "")
