"""Pushing score, tier, owner and handoff status back to the CRM: the first push waits for its diff to be
confirmed; the records the CRM refuses are reported."""

import pytest
from django.core.management import call_command

from core.models import Job
from integrations.crm.sync import account_links, push_changes
from integrations.models import CrmConnection

from ...factories import AccountScoreFactory, HandoffFactory, UserFactory
from .conftest import sync


@pytest.fixture
def pulled(fake, connect):
    """Three companies pulled, scored, one owned and handed off; push enabled but never confirmed."""
    from accounts.models import Account

    ids = [fake.add("account", fake.sample("account", i)) for i in range(3)]
    conn = connect(push_enabled=True)
    sync(conn, push=False)
    owner = UserFactory(username="rita", email="rita@example.com")
    for i, crm_id in enumerate(ids):
        account = Account.objects.get(external_id=crm_id)
        AccountScoreFactory(account=account, unified=80.0 - i, tier="tier_1" if i == 0 else "tier_2")
        if i == 0:
            account.owner = owner
            account.save(update_fields=["owner"])
            HandoffFactory(account=account, owner=owner)
    return conn, ids


def test_the_first_push_waits_for_confirmation_then_writes_in_batches(fake, pulled):
    conn, ids = pulled
    names = conn.push_field_names()
    job = sync(conn, pull=False)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["push_waiting"] is True
    assert all(not fake.records("account")[i].get(names["tier"]) for i in ids)
    changes = push_changes(conn, list(account_links(conn)))
    first = next(c for c in changes if c.link.crm_id == ids[0])
    assert ("Tier", names["tier"], "", "Tier 1") in first.changes
    assert ("Owner e-mail", names["owner"], "", "rita@example.com") in first.changes
    job = sync(conn, pull=False, confirm_push=True)
    assert job.status == Job.Status.SUCCEEDED, job.error
    conn.refresh_from_db()
    assert conn.push_confirmed
    held = fake.records("account")
    assert held[ids[0]][names["tier"]] == "Tier 1"
    assert held[ids[0]][names["score"]] == "80.0"
    assert held[ids[0]][names["handoff_status"]] == "Pending"
    assert held[ids[1]][names["tier"]] == "Tier 2"
    assert job.result["pushed"] == 3
    # Nothing changed since: a later push (no confirmation needed) sends nothing.
    before = len([r for r in fake.requests if r[0] == "POST" and "batch" in r[1] or "composite" in r[1]])
    job = sync(conn, pull=False)
    assert job.result["pushed"] == 0
    after = len([r for r in fake.requests if r[0] == "POST" and "batch" in r[1] or "composite" in r[1]])
    assert after == before


def test_a_record_the_crm_refuses_is_reported_with_its_reason(fake, pulled):
    conn, ids = pulled
    CrmConnection.objects.filter(pk=conn.pk).update(push_confirmed=True)
    conn.refresh_from_db()
    fake.reject_updates_for(ids[1], "Property values were not valid: revops_tier")
    job = sync(conn, pull=False)
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["pushed"] == 2 and job.result["push_failed"] == 1
    [(what, reason)] = job.result["errors"]
    assert ids[1] in what and "Property values were not valid" in reason
    # The refused one is tried again next time; the others are not sent again.
    job = sync(conn, pull=False)
    assert job.result["push_failed"] == 1 and job.result["pushed"] == 0


def test_the_command_prints_the_diff_of_a_dry_run_and_writes_nothing(fake, pulled, capsys):
    conn, ids = pulled
    call_command("crm_sync", fake.vendor, "--push", "--dry-run", "--connection", str(conn.pk))
    out = capsys.readouterr().out
    assert "Tier" in out and "Tier 1" in out and "rita@example.com" in out
    assert "Dry run: nothing was written." in out
    assert not fake.records("account")[ids[0]].get(conn.push_field_names()["tier"])
    call_command("crm_sync", fake.vendor, "--push", "--confirm-push", "--connection", str(conn.pk))
    assert fake.records("account")[ids[0]][conn.push_field_names()["tier"]] == "Tier 1"
