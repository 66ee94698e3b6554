"""The territory board: load, the unassigned queue, member editing, reassignment, preview and apply."""

import pytest
from django.urls import reverse

from accounts.models import Account
from core.models import Job
from territories.models import AssignmentPreview, OwnershipChange


@pytest.fixture
def routed(world):
    world.north.criteria = [{"attribute": "country", "operator": "eq", "value": "United States"}]
    world.north.save()
    return world


def test_board_shows_load_and_the_queue(client, routed):
    world = routed
    world.north_rep.memberships.update(max_accounts=4)
    client.force_login(world.manager)
    page = client.get(reverse("territory-detail", args=[world.north.pk]))
    assert page.context["queue_count"] == 0
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    page = client.get(reverse("territory-detail", args=[world.north.pk]))
    assert [a.name for a in page.context["queue"]] == ["North account"]
    html = page.content.decode()
    assert "Unassigned queue (1)" in html and 'name="account_ids"' in html


def test_manager_edits_a_member_with_validation(client, routed):
    world = routed
    membership = world.north_rep.memberships.get()
    client.force_login(world.manager)
    url = reverse("membership-edit", args=[membership.pk])
    bad = client.post(
        url, {"max_accounts": "10", "away_from": "2026-08-10", "away_until": "2026-08-01", "is_active": "on"}
    )
    assert bad.status_code == 200 and "The return date is before the first day away." in bad.content.decode()
    ok = client.post(
        url, {"max_accounts": "10", "away_from": "2026-08-01", "away_until": "2026-08-10", "is_active": "on"}
    )
    assert ok.status_code == 302
    membership.refresh_from_db()
    assert membership.max_accounts == 10
    south = world.other_rep.memberships.get()
    assert client.get(reverse("membership-edit", args=[south.pk])).status_code == 404
    client.force_login(world.north_rep)
    assert client.get(url).status_code == 403


def test_bulk_reassign_from_the_queue_and_single_from_the_account(client, routed):
    world = routed
    Account.objects.filter(pk__in=[world.north_account.pk, world.owned_by_rep.pk]).update(owner=None)
    client.force_login(world.manager)
    response = client.post(
        reverse("account-reassign"),
        {
            "account_ids": [world.north_account.pk, world.owned_by_rep.pk],
            "owner": world.north_rep.pk,
            "next": "/territories/",
        },
    )
    assert response.status_code == 302
    assert set(Account.objects.filter(owner=world.north_rep).values_list("pk", flat=True)) >= {
        world.north_account.pk,
        world.owned_by_rep.pk,
    }
    assert OwnershipChange.objects.filter(changed_by=world.manager, rule="manual reassignment").count() == 2
    # Another manager's account, a non-member owner, a rep: refused, nothing changes.
    client.post(reverse("account-reassign"), {"account_ids": [world.south_account.pk], "owner": world.north_rep.pk})
    assert Account.objects.get(pk=world.south_account.pk).owner == world.other_rep
    client.post(reverse("account-reassign"), {"account_ids": [world.north_account.pk], "owner": world.other_rep.pk})
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    client.force_login(world.north_rep)
    assert (
        client.post(reverse("account-reassign"), {"account_ids": [world.north_account.pk], "owner": ""}).status_code
        == 403
    )
    assert Account.objects.get(pk=world.north_account.pk).owner == world.north_rep
    detail = client.get(reverse("account-detail", args=[world.north_account.pk])).content.decode()
    assert "Reassign" not in detail  # reps get no reassignment form
    assert f"manual reassignment, by {world.manager.get_full_name()}" in detail


def test_preview_then_apply_as_a_job(client, routed, django_capture_on_commit_callbacks):
    world = routed
    Account.objects.filter(pk=world.north_account.pk).update(owner=None)
    client.force_login(world.manager)
    empty = client.get(reverse("assignment-preview"))
    assert empty.context["state"] == "none" and "Prepare the preview" in empty.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        prepared = client.post(reverse("assignment-preview"))
    assert prepared["Location"] == reverse("assignment-preview")
    preview = client.get(reverse("assignment-preview"))
    assert preview.context["state"] == "ready"
    moves = [(m["account_id"], m["to_owner"]) for m in preview.context["moves"]]
    assert (world.north_account.pk, world.north_rep.get_full_name()) in moves  # people by full name
    assert "Apply these" in preview.content.decode()
    assert client.get(reverse("assignment-apply")).status_code == 405  # no state change by GET
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assignment-apply"))
    job = Job.objects.get(kind="assign")
    assert response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.status == "succeeded" and job.created_by == world.manager
    for account_id, owner in moves:
        assert Account.objects.get(pk=account_id).owner.get_full_name() == owner
    client.force_login(world.north_rep)
    assert client.get(reverse("assignment-preview")).status_code == 403
    assert client.post(reverse("assignment-preview")).status_code == 403
    assert client.post(reverse("assignment-apply")).status_code == 403
    assert AssignmentPreview.objects.filter(created_by=world.north_rep).count() == 0


def test_reassign_never_redirects_off_site(client, routed):
    world = routed
    client.force_login(world.manager)
    response = client.post(
        reverse("account-reassign"),
        {"account_ids": [world.north_account.pk], "owner": world.north_rep.pk, "next": "//evil.example/steal"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("territory-detail", args=[world.north.pk])
