"""Single sign-on against a real OpenID provider (django-oidc-provider, in its own process on a free port; see
tests/oidc_provider_site/): the whole authorization-code flow, with PKCE and RS256 ID tokens checked against the
provider's JWKS, driven by a `requests.Session` that follows the redirects as a browser would.

The IdP's users (tests/oidc_provider_site/process.py): alice [sales-east], bob [sales-east, sales-managers],
carol [marketing], and "rep" (sso-rep@example.com, no group), whose name the product already gives to another user.
"""

import os
import re
import subprocess
import sys

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import Client
from rest_framework.test import APIClient

from core.models import SsoGroupRole
from core.sso import SsoBackend, idp_groups
from tests.oidc_provider_site.process import CLIENT_SECRET, PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

AXES = "axes.backends.AxesStandaloneBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
SSO_BACKEND = "core.sso.SsoBackend"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def provider(oidc_provider):
    return oidc_provider  # tests/conftest.py


@pytest.fixture
def sso(settings, provider):
    """The product configured for the provider, as the OIDC_* environment variables would configure it."""
    for name, value in provider.settings.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [AXES, MODEL_BACKEND, SSO_BACKEND]
    return provider


def sso_sign_in(live_server, provider, username: str, session: requests.Session | None = None):
    """Click "Sign in with single sign-on" on the login page, sign in at the IdP; the response where it ends."""
    session = session or requests.Session()
    login_page = session.get(f"{live_server.url}/login/", timeout=10)
    assert "Sign in with single sign-on" in login_page.text
    at_idp = session.get(f"{live_server.url}/oidc/authenticate/", timeout=10)
    assert at_idp.url.startswith(f"{provider.url}/login/"), at_idp.url
    form = {
        "csrfmiddlewaretoken": CSRF_INPUT.search(at_idp.text).group(1),
        "username": username,
        "password": PASSWORD,
        "next": re.search(r'name="next" value="([^"]*)"', at_idp.text).group(1).replace("&amp;", "&"),
    }
    return session.post(at_idp.url, data=form, timeout=30), session


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_a_mapped_user_is_created_with_the_role_and_reaches_the_rep_home(sso, live_server, world):
    SsoGroupRole.objects.create(group="sales-east", role="rep")
    assert not User.objects.filter(email="alice@example.com").exists()

    landed, session = sso_sign_in(live_server, sso, "alice")

    assert landed.status_code == 200 and landed.url == f"{live_server.url}/"
    assert "My work" in landed.text and "Sales rep" in landed.text  # the rep's home, the role in the navigation
    alice = User.objects.get(email="alice@example.com")
    assert alice.username == "alice" and (alice.first_name, alice.last_name) == ("Alice", "East")
    assert roles_of("alice") == {"rep"}
    assert not alice.is_superuser and not alice.is_staff and not alice.has_usable_password()
    api = session.get(f"{live_server.url}/api/v1/accounts/", timeout=10)
    assert api.status_code == 200


def test_two_mapped_groups_give_both_roles_but_never_superuser(sso, live_server, world):
    SsoGroupRole.objects.create(group="sales-east", role="rep")
    SsoGroupRole.objects.create(group="sales-managers", role="admin")
    SsoGroupRole.objects.create(group="somebody-elses-group", role="manager")

    landed, _ = sso_sign_in(live_server, sso, "bob")

    assert landed.status_code == 200 and "RevOps overview" in landed.text  # the most powerful role's home
    assert roles_of("bob") == {"rep", "admin"}
    bob = User.objects.get(username="bob")
    assert not bob.is_superuser and not bob.is_staff


def test_an_unmapped_user_signs_in_with_no_role_and_is_refused_everything(sso, live_server, world):
    SsoGroupRole.objects.create(group="sales-east", role="rep")

    landed, session = sso_sign_in(live_server, sso, "carol")

    assert landed.url == f"{live_server.url}/"
    assert landed.status_code == 403 and "You have no role yet" in landed.text
    assert roles_of("carol") == set()
    for page in ("/accounts/", "/jobs/", "/sso/groups/"):
        response = session.get(f"{live_server.url}{page}", timeout=10)
        assert response.status_code == 403 and "You have no role yet" in response.text, page
    api = session.get(f"{live_server.url}/api/v1/accounts/", timeout=10)
    assert api.status_code in (401, 403) and "results" not in api.text


def test_removing_a_mapping_takes_the_role_away_at_the_next_sign_in(sso, live_server, world):
    mapping = SsoGroupRole.objects.create(group="sales-east", role="rep")
    sso_sign_in(live_server, sso, "alice")
    assert roles_of("alice") == {"rep"}
    alice = User.objects.get(username="alice")
    alice.groups.add(Group.objects.create(name="newsletter"))  # not a role: single sign-on leaves it

    admin = Client()
    admin.force_login(world.admin)
    assert admin.post(f"/sso/groups/{mapping.pk}/delete/").status_code == 302
    assert not SsoGroupRole.objects.exists()

    landed, _ = sso_sign_in(live_server, sso, "alice")

    assert landed.status_code == 403 and "You have no role yet" in landed.text
    assert roles_of("alice") == {"newsletter"}
    assert User.objects.filter(email="alice@example.com").count() == 1  # the same user, found again by e-mail


def test_a_taken_username_is_made_unique(sso, live_server, world):
    landed, _ = sso_sign_in(live_server, sso, "rep")  # the IdP's "rep" is sso-rep@example.com

    assert landed.status_code == 403  # no mapped group
    created = User.objects.get(email="sso-rep@example.com")
    assert created.username == "rep-2" and created != world.rep
    assert roles_of("rep") == {"rep"}  # the product's own rep is untouched


def test_a_refused_sign_in_returns_to_the_login_page_saying_so(sso, settings, live_server, world):
    settings.OIDC_RP_CLIENT_SECRET = "not-" + CLIENT_SECRET  # the IdP refuses to exchange the code

    landed, _ = sso_sign_in(live_server, sso, "alice")

    assert landed.url == f"{live_server.url}/login/?sso=failed"
    assert "Single sign-on did not sign you in" in landed.text
    assert not User.objects.filter(username="alice").exists()


def test_with_password_login_off_only_single_sign_on_lets_anyone_in(sso, settings, live_server, world):
    settings.PASSWORD_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [AXES, SSO_BACKEND]
    SsoGroupRole.objects.create(group="sales-east", role="rep")

    page = Client().get("/login/")
    assert "Sign in with single sign-on" in page.text
    assert 'id="id_password"' not in page.text and 'id="id_username"' not in page.text

    client = Client()
    refused = client.post("/login/", {"username": "rep", "password": "pw-for-tests"})
    assert refused.status_code == 403 and "Password login is switched off" in refused.text
    assert client.get("/").status_code == 302  # still anonymous: sent to the login page

    token = APIClient().post("/api/v1/auth/token/", {"username": "rep", "password": "pw-for-tests"}, format="json")
    assert token.status_code == 403
    assert "Password login is switched off" in token.json()["detail"]

    landed, _ = sso_sign_in(live_server, sso, "alice")
    assert landed.status_code == 200 and "My work" in landed.text


# --- The admins' mapping page --------------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["rep", "manager", "outsider"])
def test_the_mapping_page_refuses_everyone_but_admins(user, world):
    client = Client()
    client.force_login(getattr(world, user))
    assert client.get("/sso/groups/").status_code == 403
    assert client.post("/sso/groups/", {"group": "sales-east", "role": "admin"}).status_code == 403
    mapping = SsoGroupRole.objects.create(group="x", role="rep")
    assert client.post(f"/sso/groups/{mapping.pk}/delete/").status_code == 403
    assert SsoGroupRole.objects.filter(pk=mapping.pk).exists()
    assert not SsoGroupRole.objects.filter(group="sales-east").exists()


def test_the_mapping_page_sends_anonymous_to_the_login_page(db):
    response = Client().get("/sso/groups/")
    assert response.status_code == 302 and response.url == "/login/?next=/sso/groups/"


def test_an_admin_adds_lists_and_deletes_mappings(world):
    admin = Client()
    admin.force_login(world.admin)
    page = admin.get("/sso/groups/")
    assert page.status_code == 200 and "No mapping yet" in page.text
    assert 'href="/sso/groups/"' in page.text  # "Single sign-on" in the admin's navigation

    added = admin.post("/sso/groups/", {"group": "  sales-east ", "role": "manager"}, follow=True)
    assert SsoGroupRole.objects.get().group == "sales-east"
    assert "<code>sales-east</code>" in added.text and "Sales manager" in added.text
    assert "get the role Sales manager from their next sign-in" in added.text

    mapping = SsoGroupRole.objects.get()
    confirm = admin.get(f"/sso/groups/{mapping.pk}/delete/")
    assert confirm.status_code == 200 and "Delete this mapping?" in confirm.text
    assert SsoGroupRole.objects.exists()  # asking is not deleting
    admin.post(f"/sso/groups/{mapping.pk}/delete/")
    assert not SsoGroupRole.objects.exists()


def test_validation_errors_are_clear_and_keep_what_was_typed(world):
    admin = Client()
    admin.force_login(world.admin)
    SsoGroupRole.objects.create(group="sales-east", role="rep")

    duplicate = admin.post("/sso/groups/", {"group": "sales-east", "role": "rep"})
    assert duplicate.status_code == 200
    assert "Members of “sales-east” already get the role Sales rep." in duplicate.text
    assert 'value="sales-east"' in duplicate.text and '<option value="rep" selected>' in duplicate.text

    blank = admin.post("/sso/groups/", {"group": "   ", "role": "admin"})
    assert "Enter the group&#x27;s name as the identity provider sends it." in blank.text
    assert '<option value="admin" selected>' in blank.text

    no_role = admin.post("/sso/groups/", {"group": "sales-west", "role": ""})
    assert "Choose the role that members of this group get." in no_role.text
    assert 'value="sales-west"' in no_role.text
    assert SsoGroupRole.objects.count() == 1


def test_without_configuration_there_is_no_single_sign_on(db):
    assert not django_settings.SSO_ENABLED
    page = Client().get("/login/")
    assert "single sign-on" not in page.text and 'id="id_password"' in page.text
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404


# --- Claims and settings -------------------------------------------------------------------------------------------


def test_the_groups_claim_is_a_list_or_a_single_string(settings):
    assert idp_groups({"groups": ["a", " b ", "", 3]}) == ["a", "b"]
    assert idp_groups({"groups": "sales-east"}) == ["sales-east"]
    assert idp_groups({}) == [] and idp_groups({"groups": {"a": 1}}) == []
    settings.OIDC_GROUPS_CLAIM = "roles"
    assert idp_groups({"roles": "x", "groups": ["y"]}) == ["x"]


def test_claims_without_a_verified_email_are_refused(settings, sso):
    backend = SsoBackend()
    assert backend.verify_claims({"sub": "1", "email": "a@example.com"})
    assert backend.verify_claims({"sub": "1", "email": "a@example.com", "email_verified": True})
    assert not backend.verify_claims({"sub": "1", "email": "a@example.com", "email_verified": False})
    assert not backend.verify_claims({"sub": "1"})


def test_the_backend_never_takes_a_password(sso, rf):
    request = rf.get("/login/?code=abc&state=def")
    assert SsoBackend().authenticate(request, username="rep", password="x") is None


def load_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "PASSWORD_LOGIN", "DATABASE_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings.test", **env})
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AUTHENTICATION_BACKENDS); print(s.OIDC_OP_TOKEN_ENDPOINT, s.OIDC_OP_JWKS_ENDPOINT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_settings_read_the_environment_and_discover_the_endpoints(provider):
    plain = load_settings()
    assert plain.returncode == 0, plain.stderr
    assert f"['{AXES}', '{MODEL_BACKEND}']" in plain.stdout

    refused = load_settings(PASSWORD_LOGIN="false")
    assert refused.returncode != 0 and "PASSWORD_LOGIN=false needs single sign-on" in refused.stderr

    sso_only = load_settings(
        PASSWORD_LOGIN="false",
        OIDC_RP_CLIENT_ID="revops-test",
        OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_OP_ISSUER=provider.issuer,
    )
    assert sso_only.returncode == 0, sso_only.stderr
    assert f"['{AXES}', '{SSO_BACKEND}']" in sso_only.stdout  # axes first, no ModelBackend
    assert f"{provider.url}/openid/token {provider.url}/openid/jwks" in sso_only.stdout

    no_secret = load_settings(OIDC_RP_CLIENT_ID="revops-test", OIDC_OP_ISSUER=provider.issuer)
    assert "OIDC_RP_CLIENT_SECRET must be set" in no_secret.stderr
    unreachable = load_settings(
        OIDC_RP_CLIENT_ID="x", OIDC_RP_CLIENT_SECRET="y", OIDC_OP_ISSUER="http://127.0.0.1:9/nothing"
    )
    assert "OIDC_OP_ISSUER: could not read" in unreachable.stderr
