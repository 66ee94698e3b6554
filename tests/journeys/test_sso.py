"""An admin maps the IdP group "sales-east" to the rep role on the Single sign-on page and signs out; a member of that
group clicks "Sign in with single sign-on", signs in at the identity provider (a real one, in its own process) and
lands in the product as a rep."""

import pytest
from django.contrib.auth.models import User

from core.models import SsoGroupRole
from tests.oidc_provider_site.process import PASSWORD

from .steps import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_maps_a_group_and_its_member_signs_in_as_a_rep(page, live_server, world, oidc_provider, settings):
    for name, value in oidc_provider.settings.items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        "core.sso.SsoBackend",
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/login/")
    assert page.locator("a:has-text('Sign in with single sign-on')").is_visible()
    page.screenshot(path=str(SHOTS / "sso-login.png"), full_page=True)
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw-for-tests")
    page.click("button:has-text('Log in')")
    page.wait_for_url(f"{live_server.url}/")

    page.click("#user-menu")  # the menu under the admin's name
    page.click("nav >> text=Single sign-on")
    page.wait_for_url(f"{live_server.url}/sso/groups/")
    page.click("button:has-text('Add the mapping')")  # nothing typed: the errors, on the page
    assert "Enter the group's name" in page.inner_text("#sso-add")
    page.fill("#id_group", "sales-east")
    page.click("button:has-text('Add the mapping')")
    assert "Choose the role" in page.inner_text("#sso-add")
    assert page.input_value("#id_group") == "sales-east"  # what was typed is kept
    page.screenshot(path=str(SHOTS / "sso-mapping-errors.png"), full_page=True)
    page.select_option("#id_role", label="Sales rep")
    page.click("button:has-text('Add the mapping')")
    row = page.locator("#sso-mappings tbody tr")
    assert row.count() == 1 and row.inner_text().split("\t")[:2] == ["sales-east", "Sales rep"]
    page.screenshot(path=str(SHOTS / "sso-mappings.png"), full_page=True)
    assert SsoGroupRole.objects.filter(group="sales-east", role="rep").exists()
    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/login/")

    page.click("text=Sign in with single sign-on")
    page.wait_for_url(f"{oidc_provider.url}/login/**")
    page.fill("#id_username", "dave")
    page.fill("#id_password", PASSWORD)
    page.click("#idp-submit")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("h1") == "My work"
    assert "Dave Journey · Sales rep" in page.inner_text("nav")
    assert page.locator("nav >> text=Single sign-on").count() == 0  # a rep has no admin pages
    page.screenshot(path=str(SHOTS / "sso-rep-home.png"), full_page=True)
    assert set(User.objects.get(username="dave").groups.values_list("name", flat=True)) == {"rep"}
