"""Account list, export and detail pages: each user sees exactly their scope; filters never widen it."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from ..factories import AccountFactory, ContactFactory, OpportunityFactory, SignalFactory

USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
ALL = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]


def listed(client, **params) -> set[int]:
    response = client.get(reverse("account-list"), params)
    assert response.status_code == 200
    return {row.record.pk for row in response.context["table"].paginated_rows}


def exported(client, **params) -> set[int]:
    response = client.get(reverse("account-export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(body))}


@pytest.mark.parametrize("name", USERS)
def test_list_and_export_show_exactly_the_users_accounts(client, world, name):
    client.force_login(getattr(world, name))
    expected = world.accounts_visible_to(name)
    assert listed(client) == expected
    assert exported(client) == expected


@pytest.mark.parametrize("name", USERS)
def test_filters_and_search_never_widen_the_scope(client, world, name):
    client.force_login(getattr(world, name))
    expected = world.accounts_visible_to(name)
    for territory in (world.north, world.north_east, world.south):
        assert listed(client, territory=territory.pk) <= expected
    for params in (
        {"q": "account"},
        {"q": "South"},
        {"owner": world.other_rep.pk},
        {"owner": "none"},
        {"industry": "software"},
    ):
        assert listed(client, **params) <= expected
        assert exported(client, **params) <= expected


def test_search_filter_and_sort(client, world):
    client.force_login(world.admin)
    assert listed(client, q="north-east") == {world.north_east_account.pk}
    assert listed(client, owner="me") == set()
    assert listed(client, owner="none") == {world.north_east_account.pk, world.unrouted_account.pk}
    assert listed(client, territory=world.south.pk) == {world.south_account.pk}
    response = client.get(reverse("account-list"), {"sort": "-name"})
    names = [row.record.name for row in response.context["table"].paginated_rows]
    assert names == sorted(names, reverse=True)
    client.force_login(world.north_rep)
    assert listed(client, owner="me") == {world.north_account.pk}


def test_the_territory_filter_offers_only_visible_territories(client, world):
    client.force_login(world.other_manager)
    response = client.get(reverse("account-list"))
    choices = {str(v) for v, _ in response.context["filter"].form.fields["territory"].choices if v}
    assert choices == {str(world.south.pk)}
    # A territory outside the scope is refused as an invalid choice, showing nothing (not the whole scope).
    response = client.get(reverse("account-list"), {"territory": world.north.pk})
    assert "territory" in response.context["filter"].errors
    assert listed(client, territory=world.north.pk) == set()
    assert exported(client, territory=world.north.pk) == set()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "offered"),
    [
        ("other_manager", {"other_rep"}),
        ("north_rep", {"manager"}),
        ("rep", set()),
        ("admin", {"manager", "other_manager", "north_rep", "sub_rep", "other_rep"}),
    ],
)
def test_the_owner_filter_offers_me_and_members_of_visible_territories(client, world, name, offered):
    client.force_login(getattr(world, name))
    response = client.get(reverse("account-list"))
    choices = dict(response.context["filter"].owner_choices())
    assert choices.pop("me") == "Me" and choices.pop("none") == "Unassigned"
    usernames = {u.username for u in User.objects.filter(pk__in=[int(pk) for pk in choices])}
    assert usernames == offered
    page = response.content.decode()
    assert 'value="me"' in page and "Unassigned" in page


def test_filtering_by_an_offered_owner(client, world):
    client.force_login(world.other_manager)
    response = client.get(reverse("account-list"), {"owner": world.other_rep.pk})
    assert {row.record.pk for row in response.context["table"].paginated_rows} == {world.south_account.pk}
    assert f'<option value="{world.other_rep.pk}" selected>' in response.content.decode()


def test_pagination_and_query_count(client, world, django_assert_max_num_queries):
    for i in range(120):
        AccountFactory(name=f"Bulk {i:03d}", territory=world.north, owner=world.north_rep)
    client.force_login(world.manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("account-list"), {"page": 2})
    assert len(response.context["table"].paginated_rows) == 50
    assert response.context["table"].paginator.count == 123


def test_empty_state(client, world):
    client.force_login(world.rep)
    response = client.get(reverse("account-list"), {"q": "no such thing"})
    assert "No accounts match" in response.content.decode()


@pytest.mark.parametrize("name", USERS)
def test_detail_is_404_outside_the_scope(client, world, name):
    client.force_login(getattr(world, name))
    visible = world.accounts_visible_to(name)
    for attr in ALL:
        account = getattr(world, attr)
        response = client.get(reverse("account-detail", args=[account.pk]))
        assert response.status_code == (200 if account.pk in visible else 404)


def test_detail_shows_the_accounts_data(client, world):
    account = world.north_account
    ContactFactory(account=account, name="Ann Champion", persona="champion")
    SignalFactory(account=account, kind="meeting", topic="pricing")
    OpportunityFactory(account=account, external_id="OPP-42", product="GTX Pro", stage="Won")
    child = AccountFactory(name="Child Co", parent=account, territory=world.north)
    client.force_login(world.north_rep)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    for text in ("Ann Champion", "Champion", "meeting", "pricing", "OPP-42", "GTX Pro", "Child Co", "North"):
        assert text in page
    assert reverse("account-detail", args=[child.pk]) in page


def test_detail_does_not_leak_invisible_subsidiaries(client, world):
    AccountFactory(name="Hidden Child", parent=world.north_account, territory=world.south)
    client.force_login(world.north_rep)
    assert "Hidden Child" not in client.get(reverse("account-detail", args=[world.north_account.pk])).content.decode()


def test_anonymous_and_outsider(client, world):
    for url in (
        reverse("account-list"),
        reverse("account-export"),
        reverse("account-detail", args=[world.north_account.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(world.outsider)
    for url in (
        reverse("account-list"),
        reverse("account-export"),
        reverse("account-detail", args=[world.north_account.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert "North account" not in response.content.decode()
        assert "You have no role yet" in response.content.decode()


def test_export_defuses_spreadsheet_formulas(client, world):
    AccountFactory(name='=HYPERLINK("http://evil.example")', territory=world.north)
    client.force_login(world.manager)
    body = b"".join(client.get(reverse("account-export")).streaming_content).decode()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
