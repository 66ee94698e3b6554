"""The territory form (admins): fields, rules written with the criterion builder, named accounts chosen with the
search, the preview of what would match before saving, the audit trail; and who is refused."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from territories.models import Territory
from territories.services import territory_create, territory_update
from tests.factories import AccountFactory, TerritoryFactory


def rule_rows(*rows, prefix="rules"):
    """The builder's POST data: (group, attribute, operator, value) rows."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "200",
    }
    for i, (group, attribute, operator, value) in enumerate(rows):
        data.update(
            {
                f"{prefix}-{i}-group": group,
                f"{prefix}-{i}-attribute": attribute,
                f"{prefix}-{i}-operator": operator,
                f"{prefix}-{i}-value": value,
            }
        )
    return data


def territory_post(name="West", *, rows=(), action="save", named=(), **fields):
    data = {
        "name": name,
        "parent": "",
        "priority": "50",
        "strategy": "load_balanced",
        "is_active": "on",
        "action": action,
        **rule_rows(*rows),
        **fields,
    }
    if named:
        data["named_accounts"] = [str(pk) for pk in named]
    return data


@pytest.fixture
def west_accounts(world):
    AccountFactory(name="Globex", country="Germany", employee_count=5000)
    AccountFactory(name="Initech", country=" germany ", employee_count=800)
    AccountFactory(name="Umbrella", country="France", employee_count=20000)
    AccountFactory(name="Hooli", country="Germany", employee_count=None)
    return world


def test_an_admin_creates_a_territory_with_rules_and_it_is_audited(client, west_accounts):
    world = west_accounts
    client.force_login(world.admin)
    assert client.get(reverse("territory-new")).status_code == 200
    response = client.post(
        reverse("territory-new"),
        territory_post(
            rows=[("Region", "country", "in", "Germany, France"), ("", "employee_count", "gte", "1,000")],
            parent=str(world.north.pk),
        ),
    )
    west = Territory.objects.get(name="West")
    assert response.status_code == 302 and response["Location"] == reverse("territory-detail", args=[west.pk])
    assert west.criteria == [
        {"group": "Region", "attribute": "country", "operator": "in", "value": ["Germany", "France"]},
        {"group": "", "attribute": "employee_count", "operator": "gte", "value": 1000},
    ]
    assert (west.parent, west.priority, west.strategy, west.is_active) == (world.north, 50, "load_balanced", True)
    created = west.history.get()
    assert created.history_type == "+" and created.history_user == world.admin
    # The board reads the rules in words.
    page = client.get(reverse("territory-detail", args=[west.pk])).content.decode()
    assert "Country is one of Germany, France" in page and "Employees ≥ 1,000" in page


def test_preview_counts_the_matches_and_saves_nothing(client, west_accounts):
    world = west_accounts
    client.force_login(world.admin)
    rows = [("", "country", "eq", "germany"), ("", "employee_count", "gte", "500")]
    response = client.post(reverse("territory-new"), territory_post(rows=rows, action="preview"))
    assert response.status_code == 200
    assert not Territory.objects.filter(name="West").exists()
    preview = response.context["preview"]
    assert (preview.total, preview.examples) == (2, ["Globex", "Initech"])  # Hooli's size is unknown
    html = response.content.decode()
    assert "2 accounts would match" in html and "Globex, Initech" in html
    # What was typed is kept: the rules and the fields, ready to save.
    assert 'value="germany"' in html and 'value="West"' in html


def test_preview_with_named_accounts_counts_each_account_once(client, west_accounts):
    world = west_accounts
    client.force_login(world.admin)
    globex = world.north.accounts.model.objects.get(name="Globex")
    rows = [("", "country", "eq", "Germany")]
    named = [globex.pk, world.south_account.pk]
    response = client.post(reverse("territory-new"), territory_post(rows=rows, action="preview", named=named))
    preview = response.context["preview"]
    assert (preview.matched, preview.named, preview.total) == (3, 2, 4)
    # Named only: no rules.
    response = client.post(reverse("territory-new"), territory_post(action="preview", named=named))
    assert response.context["preview"].total == 2
    assert "2 accounts would match" in response.content.decode()


def test_bad_rules_and_a_taken_name_are_refused_and_what_was_typed_is_kept(client, west_accounts):
    world = west_accounts
    client.force_login(world.admin)
    rows = [("", "employee_count", "between", "many, more"), ("", "country", "eq", "Germany")]
    response = client.post(reverse("territory-new"), territory_post(name="north", rows=rows))
    assert response.status_code == 200 and Territory.objects.count() == 3
    html = response.content.decode()
    assert "A territory named north already exists." in html
    assert "Write numbers separated by commas" in html
    assert 'value="many, more"' in html and 'value="Germany"' in html
    # A parent below the territory itself is refused by the form (not offered) and by the service.
    edit = client.post(
        reverse("territory-edit", args=[world.north.pk]),
        territory_post(name="North", parent=str(world.north_east.pk)),
    )
    assert edit.status_code == 200 and "Select a valid choice" in edit.content.decode()
    with pytest.raises(ValidationError) as refused:
        territory_update(territory=world.north, values={"parent": world.north_east})
    assert "below itself" in str(refused.value)


def test_the_services_validate_rules_with_the_criterion_language(world):
    with pytest.raises(ValidationError) as refused:
        territory_create(values={"name": "X", "criteria": [{"attribute": "shoe_size", "operator": "eq", "value": 4}]})
    assert "Rule 1" in refused.value.message_dict["criteria"][0]
    assert not Territory.objects.filter(name="X").exists()
    api = APIClient()
    api.force_authenticate(world.admin)
    bad = api.patch(
        f"/api/v1/territories/{world.north.pk}/",
        {"criteria": [{"attribute": "employee_count", "operator": "eq", "value": "lots"}]},
        format="json",
    )
    assert bad.status_code == 400 and "criteria" in bad.json()


def test_an_admin_edits_rules_and_named_accounts_and_the_audit_names_them(client, west_accounts):
    world = west_accounts
    client.force_login(world.admin)
    globex = world.north.accounts.model.objects.get(name="Globex")
    url = reverse("territory-edit", args=[world.south.pk])
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"]["name"].value() == "South"
    response = client.post(url, territory_post(name="South", rows=[("", "country", "eq", "France")], named=[globex.pk]))
    assert response.status_code == 302
    south = Territory.objects.get(pk=world.south.pk)
    assert south.criteria == [{"group": "", "attribute": "country", "operator": "eq", "value": "France"}]
    assert list(south.named_accounts.all()) == [globex]
    reasons = list(south.history.values_list("history_change_reason", flat=True))
    assert "Named accounts: named Globex" in reasons
    assert all(h.history_user == world.admin for h in south.history.filter(history_type="~"))
    # The form shows the stored rules and the named account; removing it is audited too.
    html = client.get(url).content.decode()
    assert 'value="France"' in html and "Globex" in html
    client.post(url, territory_post(name="South", rows=[("", "country", "eq", "France")]))
    assert south.named_accounts.count() == 0
    assert "Named accounts: no longer named Globex" in south.history.values_list("history_change_reason", flat=True)


def test_an_unknown_named_account_is_refused(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("territory-new"), territory_post(named=[987654]))
    assert response.status_code == 200 and "no longer exist" in response.content.decode()
    assert not Territory.objects.filter(name="West").exists()


@pytest.mark.parametrize("name", ["manager", "other_manager", "north_rep", "rep"])
def test_only_admins_create_and_edit_territories(client, world, name):
    client.force_login(getattr(world, name))
    for url in (
        reverse("territory-new"),
        *(reverse("territory-edit", args=[t.pk]) for t in (world.north, world.south)),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, territory_post(name="Taken over")).status_code == 403
    assert client.get(reverse("territory-account-search"), {"q": "North"}).status_code == 403
    assert not Territory.objects.filter(name="Taken over").exists()
    assert Territory.objects.get(pk=world.north.pk).name == "North"


def test_no_role_and_anonymous_are_refused(client, world):
    client.force_login(world.outsider)
    assert client.get(reverse("territory-new")).status_code == 403
    client.logout()
    assert client.get(reverse("territory-new")).status_code == 302
    assert client.get(reverse("territory-account-search"), {"q": "North"}).status_code == 302


def test_the_account_search_finds_by_name_or_domain(client, world):
    AccountFactory(name="Globex Corp", domain="globex.example")
    AccountFactory(name="Initech", domain="initech-globex.example")
    client.force_login(world.admin)
    found = client.get(reverse("territory-account-search"), {"q": "globex"}).json()["results"]
    assert [r["name"] for r in found] == ["Globex Corp", "Initech"]
    assert found[0] == {"id": found[0]["id"], "name": "Globex Corp", "domain": "globex.example", "territory": ""}
    north = client.get(reverse("territory-account-search"), {"q": "north"}).json()["results"]
    assert [(r["name"], r["territory"]) for r in north] == [
        ("North account", "North"),
        ("North-East account", "North-East"),
    ]
    assert client.get(reverse("territory-account-search"), {"q": "g"}).json() == {"results": []}


def test_the_list_and_board_offer_admins_the_territory_pages(client, world):
    client.force_login(world.admin)
    html = client.get(reverse("territory-list")).content.decode()
    assert reverse("territory-new") in html and reverse("unrouted-accounts") in html
    assert reverse("territory-edit", args=[world.north.pk]) in html
    client.force_login(world.manager)
    html = client.get(reverse("territory-list")).content.decode()
    assert reverse("territory-new") not in html and reverse("territory-edit", args=[world.north.pk]) not in html
    board = client.get(reverse("territory-detail", args=[world.north.pk])).content.decode()
    assert "Edit territory" not in board and reverse("membership-new", args=[world.north.pk]) in board


def test_a_territory_without_rules_reads_so(client, world):
    TerritoryFactory(name="Strategic")
    client.force_login(world.admin)
    strategic = Territory.objects.get(name="Strategic")
    html = client.get(reverse("territory-detail", args=[strategic.pk])).content.decode()
    assert "No rules: it takes only its named accounts." in html
