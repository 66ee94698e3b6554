"""The admins' queue of accounts in no territory: linked from the admin home page's count, paginated, and from it an
admin sends accounts to a territory (named there, routed, given an owner) or routes them again."""

import pytest
from django.urls import reverse

from accounts.models import Account
from core.models import Job
from territories import unrouted_views
from territories.models import OwnershipChange, Territory
from tests.factories import AccountFactory


def test_the_home_count_links_to_the_queue(client, world):
    client.force_login(world.admin)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("unrouted-accounts")}"' in home
    page = client.get(reverse("unrouted-accounts"))
    assert page.status_code == 200
    assert [a.name for a in page.context["page"].object_list] == ["Unrouted account"]
    assert "(1)" in page.content.decode()


def test_the_queue_is_paginated_by_name(client, world, monkeypatch):
    monkeypatch.setattr(unrouted_views, "PAGE_SIZE", 2)
    for name in ("Zeta", "Alpha", "Mid"):
        AccountFactory(name=name)
    client.force_login(world.admin)
    first = client.get(reverse("unrouted-accounts"))
    assert [a.name for a in first.context["page"].object_list] == ["Alpha", "Mid"]
    second = client.get(reverse("unrouted-accounts"), {"page": 2})
    assert [a.name for a in second.context["page"].object_list] == ["Unrouted account", "Zeta"]
    assert "Page 2 of 2" in second.content.decode()


def test_an_admin_sends_accounts_to_a_territory(client, world):
    client.force_login(world.admin)
    stray = AccountFactory(name="Stray", country="Atlantis")
    response = client.post(
        reverse("unrouted-accounts"),
        {"account_ids": [world.unrouted_account.pk, stray.pk], "territory": world.north.pk, "action": "send"},
    )
    assert response.status_code == 302
    for account in (world.unrouted_account, stray):
        account.refresh_from_db()
        assert account.territory == world.north and account.owner == world.north_rep  # North's one rep
    assert set(world.north.named_accounts.values_list("pk", flat=True)) == {world.unrouted_account.pk, stray.pk}
    change = OwnershipChange.objects.get(account=stray)
    assert change.changed_by == world.admin and "named account of North" in change.rule
    messages = [str(m) for m in client.get(reverse("unrouted-accounts")).context["messages"]]
    assert messages == [
        "Sent 2 accounts to North: named there, so routing keeps them there, each with an owner if a rep is free."
    ]
    assert not Account.objects.filter(territory__isnull=True).exists()
    # The audit trail says which accounts were named.
    assert "Named accounts: named Stray, Unrouted account" in world.north.history.values_list(
        "history_change_reason", flat=True
    )


def test_sending_without_a_territory_keeps_the_selection_and_says_why(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("unrouted-accounts"), {"account_ids": [world.unrouted_account.pk], "territory": "", "action": "send"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose the territory to send the accounts to." in html
    assert f'value="{world.unrouted_account.pk}" aria-label="Select Unrouted account" checked' in html
    nothing = client.post(reverse("unrouted-accounts"), {"territory": world.north.pk, "action": "send"})
    assert "Select at least one account." in nothing.content.decode()
    assert Account.objects.get(pk=world.unrouted_account.pk).territory is None


def test_routing_again_after_the_rules_change(client, world):
    client.force_login(world.admin)
    stray = AccountFactory(name="Stray", country="Atlantis")
    Territory.objects.filter(pk=world.south.pk).update(
        criteria=[{"attribute": "country", "operator": "eq", "value": "United States"}]
    )
    response = client.post(
        reverse("unrouted-accounts"), {"account_ids": [world.unrouted_account.pk, stray.pk], "action": "route"}
    )
    assert response.status_code == 302
    world.unrouted_account.refresh_from_db()
    assert world.unrouted_account.territory == world.south and world.unrouted_account.owner == world.other_rep
    assert Account.objects.get(pk=stray.pk).territory is None
    messages = [str(m) for m in client.get(reverse("unrouted-accounts")).context["messages"]]
    assert messages == ["1 account found a territory. 1 account still matches none."]


def test_routing_every_account_in_no_territory_runs_as_a_job(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    Territory.objects.filter(pk=world.south.pk).update(
        criteria=[{"attribute": "country", "operator": "eq", "value": "United States"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("unrouted-accounts"), {"action": "route_all"})
    job = Job.objects.get(kind="assign")
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.status == "succeeded" and job.params == {"unrouted": True} and job.created_by == world.admin
    assert Account.objects.get(pk=world.unrouted_account.pk).territory == world.south
    # Only the accounts in no territory were considered.
    assert job.result["summary"]["accounts considered"] == 1


@pytest.mark.parametrize("name", ["manager", "other_manager", "north_rep", "outsider"])
def test_only_admins_see_and_route_the_queue(client, world, name):
    client.force_login(getattr(world, name))
    assert client.get(reverse("unrouted-accounts")).status_code == 403
    response = client.post(
        reverse("unrouted-accounts"),
        {"account_ids": [world.unrouted_account.pk], "territory": world.north.pk, "action": "send"},
    )
    assert response.status_code == 403
    assert client.post(reverse("unrouted-accounts"), {"action": "route_all"}).status_code == 403
    assert Account.objects.get(pk=world.unrouted_account.pk).territory is None
    assert not Job.objects.exists()
