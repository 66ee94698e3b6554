"""API tokens: stored as digests, expiring, revocable by their user (page and API), limited in number, and never
shown to another user."""

import datetime as dt
import hashlib

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken
from core.tokens import token_create

TOKEN_URL = "/api/v1/auth/token/"
TOKENS_URL = "/api/v1/auth/tokens/"
PAGE = "/settings/api-tokens/"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def calls_with(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_only_a_digest_of_the_key_is_stored(world):
    token, key = token_create(world.rep, name="CRM sync", days=30)
    assert key.startswith("rvo_") and len(key) >= 40
    stored = ApiToken.objects.values().get(pk=token.pk)
    assert key not in str(stored)
    assert stored["digest"] == hashlib.sha256(key.encode()).hexdigest() and key.startswith(stored["prefix"])
    assert calls_with(key).get("/api/v1/accounts/").status_code == 200
    # Knowing the digest (a database leak) is no use as a key.
    assert calls_with(stored["digest"]).get("/api/v1/accounts/").status_code == 401


def test_a_token_stops_working_when_it_expires(world):
    token, key = token_create(world.rep, name="Short-lived", days=1)
    assert token.expires_at - timezone.now() > dt.timedelta(hours=23)
    assert calls_with(key).get("/api/v1/accounts/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = calls_with(key).get("/api/v1/accounts/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_login_token_expires_after_the_set_days(api_client, world, settings):
    settings.API_TOKEN_DAYS = 7
    response = api_client.post(TOKEN_URL, {"username": "rep", "password": "pw-for-tests", "name": "Script"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=world.rep)
    assert token.name == "Script"
    assert abs((token.expires_at - timezone.now()) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    assert dt.datetime.fromisoformat(response.json()["expires_at"]) == token.expires_at


def test_a_user_lists_and_revokes_their_own_tokens_through_the_api(world):
    mine, key = token_create(world.rep, name="Mine")
    theirs, their_key = token_create(world.north_rep, name="Theirs")
    api = calls_with(key)
    listed = api.get(TOKENS_URL).json()["results"]
    assert [t["name"] for t in listed] == ["Mine"] and listed[0]["status"] == "active"
    assert "digest" not in listed[0] and "token" not in listed[0]
    # Another user's token is not there to read or revoke.
    assert api.get(f"{TOKENS_URL}{theirs.pk}/").status_code == 404
    assert api.delete(f"{TOKENS_URL}{theirs.pk}/").status_code == 404
    assert calls_with(their_key).get("/api/v1/accounts/").status_code == 200

    second, second_key = token_create(world.rep, name="Second")
    assert api.delete(f"{TOKENS_URL}{second.pk}/").status_code == 204
    response = calls_with(second_key).get("/api/v1/accounts/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert api.get(f"{TOKENS_URL}?active=true").json()["count"] == 1
    assert api.get(f"{TOKENS_URL}{second.pk}/").json()["status"] == "revoked"
    # Revoking the token in use signs the caller out.
    assert api.delete(f"{TOKENS_URL}{mine.pk}/").status_code == 204
    assert api.get(TOKENS_URL).status_code == 401


def test_a_user_has_at_most_the_set_number_of_active_tokens(api_client, world, settings):
    settings.API_TOKENS_PER_USER = 2
    credentials = {"username": "rep", "password": "pw-for-tests"}
    first = api_client.post(TOKEN_URL, credentials)
    assert api_client.post(TOKEN_URL, credentials).status_code == 200
    refused = api_client.post(TOKEN_URL, credentials)
    assert refused.status_code == 403 and "revoke one" in refused.json()["detail"]
    assert ApiToken.objects.filter(user=world.rep).count() == 2
    # A revoked or expired token no longer counts.
    api = calls_with(first.json()["token"])
    api.delete(f"{TOKENS_URL}{ApiToken.objects.filter(user=world.rep).order_by('id').first().pk}/")
    assert api_client.post(TOKEN_URL, credentials).status_code == 200


def test_last_use_is_recorded(world):
    token, key = token_create(world.rep, name="Sync")
    assert token.last_used_at is None
    calls_with(key).get("/api/v1/accounts/")
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < dt.timedelta(minutes=1)


def test_the_page_makes_a_token_shows_its_key_once_and_revokes_it_after_a_confirm(client, world):
    client.force_login(world.rep)
    assert "You have no API tokens yet" in client.get(PAGE).content.decode()
    made = client.post(PAGE, {"name": "Reporting script", "expires": "30"})
    assert made.status_code == 302 and made["Location"] == PAGE  # a reload of the page makes no second token
    response = client.get(PAGE)
    key = response.context["new_key"]
    assert key in response.content.decode() and "it will not be shown again" in response.content.decode()
    token = ApiToken.objects.get(user=world.rep)
    assert token.name == "Reporting script" and token.expires_at.date() == (timezone.now() + dt.timedelta(30)).date()
    assert calls_with(key).get("/api/v1/accounts/").status_code == 200
    # Shown once: the list has its first characters only, and the session keeps no copy.
    again = client.get(PAGE).content.decode()
    assert (
        key not in again
        and key not in str(dict(client.session))
        and token.prefix in again
        and "Reporting script" in again
    )

    confirm = client.get(f"{PAGE}{token.pk}/revoke/")
    assert confirm.status_code == 200 and "Yes, revoke it" in confirm.content.decode()
    assert calls_with(key).get("/api/v1/accounts/").status_code == 200  # nothing revoked by looking
    done = client.post(f"{PAGE}{token.pk}/revoke/", follow=True)
    assert "Revoked “Reporting script”" in done.content.decode()
    assert calls_with(key).get("/api/v1/accounts/").status_code == 401


def test_a_token_that_never_expires(client, world):
    client.force_login(world.manager)
    client.post(PAGE, {"name": "Forever", "expires": ""})
    assert ApiToken.objects.get(user=world.manager).expires_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [({"name": "   ", "expires": "365"}, "Give the token a name"), ({"name": "x", "expires": "12"}, "valid choice")],
)
def test_a_bad_form_says_why_and_keeps_what_was_typed(client, world, data, message):
    client.force_login(world.rep)
    response = client.post(PAGE, data)
    body = response.content.decode()
    assert response.status_code == 200 and message in body and not ApiToken.objects.exists()
    if data["expires"] == "365":
        assert '<option value="365" selected>' in body


def test_nobody_revokes_or_sees_another_users_tokens_on_the_page(client, world):
    theirs, their_key = token_create(world.north_rep, name="North sync")
    client.force_login(world.rep)
    assert "North sync" not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert calls_with(their_key).get("/api/v1/accounts/").status_code == 200


def test_the_page_refuses_anonymous_and_role_less_users(client, world):
    assert client.get(PAGE).status_code == 302
    client.force_login(world.outsider)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"name": "x", "expires": "30"}).status_code == 403
    assert not ApiToken.objects.exists()
