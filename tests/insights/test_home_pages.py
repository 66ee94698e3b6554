"""Login, logout, the home page of each role, and the page a user with no role sees."""

import pytest
from django.urls import reverse


def test_login_page_and_login(client, world):
    response = client.get(reverse("login"))
    assert response.status_code == 200 and b'name="password"' in response.content
    response = client.post(reverse("login"), {"username": "rep", "password": "pw-for-tests"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    client.logout()
    bad = client.post(reverse("login"), {"username": "rep", "password": "nope"})
    assert b"didn&#x27;t match" in bad.content or b"didn't match" in bad.content


def test_logout_is_a_post_and_ends_the_session(client, world):
    client.force_login(world.rep)
    assert client.get(reverse("logout")).status_code == 405  # no state change by GET
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_anonymous_home_goes_to_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


@pytest.mark.parametrize(
    ("name", "title", "shown", "hidden"),
    [
        ("rep", "My work", ["Accounts", "Jobs"], ["Import", "Territories", ">Django admin<"]),
        ("manager", "My territories", ["Accounts", "Territories"], ["Import", ">Django admin<"]),
        ("admin", "RevOps overview", ["Accounts", "Territories", "Import", ">Django admin<"], []),
    ],
)
def test_each_role_has_its_home_and_navigation(client, world, name, title, shown, hidden):
    client.force_login(getattr(world, name))
    page = client.get(reverse("home")).content.decode()
    assert title in page
    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page


def test_manager_home_counts_only_their_territories(client, world):
    client.force_login(world.manager)
    response = client.get(reverse("home"))
    assert response.context["account_count"] == 3
    assert {t.name for t in response.context["territories"]} == {"North", "North-East"}


def test_user_without_a_role_is_told_so(client, world):
    client.force_login(world.outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "You have no role yet" in page
    assert "Accounts" not in page  # no navigation to anything


def test_django_admin_is_for_revops_admins_only(client, world):
    for name in ("rep", "manager", "outsider"):
        client.force_login(getattr(world, name))
        assert client.get("/admin/accounts/account/").status_code == 302  # sent to the admin login
    client.force_login(world.admin)
    for url in (
        "/admin/",
        "/admin/accounts/account/",
        "/admin/accounts/signal/",
        "/admin/territories/membership/",
        "/admin/core/job/",
        "/admin/auth/user/",
    ):
        assert client.get(url).status_code == 200, url


def test_every_model_has_a_django_admin_page(client, world):
    """SPEC section 7: Django admin for every model (the audit trail's history tables are read on the Audit page)."""
    from django.apps import apps
    from django.contrib import admin

    client.force_login(world.admin)
    for label in ("core", "accounts", "territories", "segmentation", "handoffs", "insights", "integrations"):
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical") or model._meta.auto_created:
                continue
            if model.__name__ in (
                "RescoreChunk",
                "PendingRescore",
                "PendingRoute",
                "PendingCapacity",
                "PendingOwnerChange",
                "PendingLookalike",
            ):
                continue  # a job's or a queue's own bookkeeping, seen through what it does
            assert model in admin.site._registry, f"{model.__name__} has no admin page"
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            assert client.get(url).status_code == 200, url
