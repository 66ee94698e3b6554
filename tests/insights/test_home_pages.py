"""Login, logout, the home page of each role, and the page a user with no role sees."""

import pytest
from django.urls import reverse

from tests.conftest import forget_shared_counts


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


def test_the_home_tiles_are_shared_by_the_readers_of_a_scope_and_say_when_they_were_counted(client, world):
    """At a million accounts each tile is a count over the whole scope: it is counted once a minute per scope (every
    admin; managers of the same territories; each rep), with the time it was counted, never per page load."""
    from django.test.utils import override_settings

    from tests.factories import AccountFactory, OpportunityFactory

    forget_shared_counts()
    with override_settings(COUNTS_CACHE_SECONDS=60):
        client.force_login(world.admin)
        first = client.get(reverse("home"))
        before = {key: first.context[key] for key in ("account_count", "open_opportunities", "unrouted_count")}
        assert 'id="stats-counted-at">Counted at ' in first.content.decode()
        client.force_login(world.manager)
        assert client.get(reverse("home")).context["account_count"] == 3

        AccountFactory(name="Added since", territory=None)
        OpportunityFactory(account=world.north_account, stage="Engaging", is_closed=False, is_won=False)
        client.force_login(world.admin)
        again = client.get(reverse("home")).context
        assert {key: again[key] for key in before} == before  # shared: not counted again within the minute
        assert again["owned_count"] == 0  # the user's own accounts are one look-up, always current
        client.force_login(world.manager)
        assert client.get(reverse("home")).context["account_count"] == 3
        client.force_login(world.other_manager)  # another scope: counted for them
        assert client.get(reverse("home")).context["open_opportunities"] == 0

        forget_shared_counts()  # as when the minute has passed
        client.force_login(world.admin)
        fresh = client.get(reverse("home")).context
        assert fresh["account_count"] == before["account_count"] + 1
        assert fresh["unrouted_count"] == before["unrouted_count"] + 1
        assert fresh["open_opportunities"] == before["open_opportunities"] + 1
        client.force_login(world.manager)
        assert client.get(reverse("home")).context["open_opportunities"] == 1


def test_the_home_tiles_show_numbers_with_thousands_separators(client, world):
    from unittest import mock

    client.force_login(world.admin)
    with mock.patch("insights.selectors.counted", return_value=({"account_count": 1234567, "open_opportunities": 89012,
                                                                   "unrouted_count": 4321}, None)):  # fmt: skip
        page = client.get(reverse("home")).content.decode()
    assert 'id="stat-accounts">1,234,567<' in page
    assert 'id="stat-open-opportunities">89,012<' in page
    assert "<strong>4,321</strong>" in page
