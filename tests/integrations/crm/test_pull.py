"""Pulling from a CRM: pages, the search cap, rate limits, expired tokens, records refused, an interrupted sync."""

import datetime as dt

import pytest
from django.db import connection as db

from accounts.models import Account, Contact, Opportunity, Signal
from core.models import Job
from integrations.crm.sync import adapter_for, mapping_for
from integrations.models import CrmConnection, CrmLink

from .conftest import sync


def add_companies(fake, n, start=0, **kwargs):
    return [fake.add("account", fake.sample("account", i), **kwargs) for i in range(start, start + n)]


def test_pull_pages_through_every_company_and_links_each_once(fake, connect):
    ids = add_companies(fake, 250)
    conn = connect()
    job = sync(conn, push=False)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Account.objects.count() == 250
    assert set(CrmLink.objects.filter(object_kind="account").values_list("crm_id", flat=True)) == set(ids)
    assert job.result["pulled"]["account"]["created"] == 250
    assert job.done == job.total == 250
    searches = [r for r in fake.requests if r[1].endswith("/search") or "query" in r[1]]
    assert len(searches) >= 3  # 100 a page
    account = Account.objects.get(external_id=ids[7])
    assert account.name == "Company 7" and account.domain == "company7.example" and account.employee_count == 57


def test_a_second_pull_reads_only_what_changed(fake, connect):
    ids = add_companies(fake, 30)
    conn = connect()
    sync(conn, push=False)
    fake.touch("account", ids[3], {"name": "Renamed Co"})
    job = sync(conn, push=False)
    assert job.result["pulled"]["account"]["read"] == 1
    assert job.result["pulled"]["account"]["updated"] == 1
    assert Account.objects.get(external_id=ids[3]).name == "Renamed Co"
    assert Account.objects.count() == 30


def test_the_search_cap_is_passed_by_asking_again_from_the_last_record(db):
    from integrations.crm.services import connection_save

    from ..fakes.hubspot import FakeHubSpot

    with FakeHubSpot(search_cap=200) as fake:
        moment = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
        # Many records share a modified time across the cap: none lost, none doubled.
        ids = [fake.add("account", fake.sample("account", i), modified_at=moment + dt.timedelta(seconds=i // 70))
               for i in range(450)]  # fmt: skip
        conn = connection_save(vendor="hubspot", name="Capped", values=fake.settings())
        job = sync(conn, push=False)
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert sorted(Account.objects.values_list("external_id", flat=True)) == sorted(ids)
        assert job.result["pulled"]["account"]["read"] == 450


def test_rate_limits_are_waited_out(fake, connect):
    add_companies(fake, 5)
    conn = connect()
    fake.rate_limit_next(3, retry_after=0.05)
    job = sync(conn, push=False)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Account.objects.count() == 5


def test_endless_rate_limits_fail_the_sync_with_the_reason(fake, connect):
    add_companies(fake, 5)
    conn = connect(values={"rate_limit_retries": 2})
    fake.rate_limit_next(50, retry_after=0.01)
    job = sync(conn, push=False)
    assert job.status == Job.Status.FAILED
    assert "429" in job.error


def test_an_expired_token_is_refreshed_and_stored_encrypted(fake, connect):
    add_companies(fake, 3)
    conn = connect()
    old = conn.credentials["access_token"]
    fake.expire_token()
    job = sync(conn, push=False)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Account.objects.count() == 3
    conn = CrmConnection.objects.get(pk=conn.pk)
    new = conn.credentials["access_token"]
    assert new != old and new == fake.settings()["access_token"]
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted, settings FROM integrations_crmconnection WHERE id = %s", [conn.pk]
        )
        raw, settings = cursor.fetchone()
    assert new not in raw and fake.settings()["refresh_token"] not in raw
    assert new not in str(settings) and "client_secret" not in str(settings)


def test_a_record_the_product_refuses_is_reported_and_the_others_go_in(fake, connect):
    conn = connect()
    employees = mapping_for(conn, "account", adapter_for(conn))["fields"]["employee_count"]
    add_companies(fake, 4)
    bad = fake.add("account", {**fake.sample("account", 9), employees: "lots"})
    job = sync(conn, push=False)
    assert job.status == Job.Status.SUCCEEDED
    assert Account.objects.count() == 4
    assert job.result["pulled"]["account"]["failed"] == 1
    [(what, reason)] = job.result["errors"]
    assert bad in what and "Employees" in reason and "lots" in reason


def test_an_interrupted_sync_resumes_with_nothing_lost_or_doubled(fake, connect):
    moment = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    # 350 companies, 100 a page, with runs of equal modified times across the page breaks.
    ids = [fake.add("account", fake.sample("account", i), modified_at=moment + dt.timedelta(seconds=i // 30))
           for i in range(350)]  # fmt: skip
    conn = connect()
    fake.fail_after(2)
    job = sync(conn, push=False)
    assert job.status == Job.Status.FAILED
    assert "500" in job.error
    assert Account.objects.count() == 200  # the two pages committed
    assert any("resumes" in note for note in job.result["notes"])
    when, last = conn.watermark("account")
    assert last == ids[199]
    fake.fail_after(None)
    job = sync(conn, push=False)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert sorted(Account.objects.values_list("external_id", flat=True)) == sorted(ids)
    assert CrmLink.objects.filter(object_kind="account").count() == 350
    assert job.result["pulled"]["account"]["created"] == 150


def test_contacts_deals_and_activities_find_their_account(fake, connect):
    [company] = add_companies(fake, 1)
    contact = fake.add("contact", fake.sample("contact", 1), account_crm_id=company)
    deal = fake.add("opportunity", fake.sample("opportunity", 2), account_crm_id=company)
    activity = fake.add("activity", fake.sample("activity", 3), account_crm_id=company)
    orphan = fake.add("contact", fake.sample("contact", 4))
    job = sync(connect(), push=False)
    assert job.status == Job.Status.SUCCEEDED, job.error
    account = Account.objects.get(external_id=company)
    assert Contact.objects.get(external_id=contact).account == account
    assert Contact.objects.get(external_id=contact).name == "Ada1 Lovelace"
    assert Opportunity.objects.get(external_id=deal).account == account
    signal = Signal.objects.get(external_id=activity)
    assert signal.account == account and signal.kind == "meeting"
    assert [orphan in what for what, _ in job.result["errors"]] == [True]
    assert job.result["pulled"]["contact"]["failed"] == 1


def test_fields_mapped_to_attributes_are_kept_with_the_account(fake, connect):
    conn = connect()
    adapter = adapter_for(conn)
    mapping = mapping_for(conn, "account", adapter)
    spare = next(name for name, _ in adapter.fields("account") if name not in mapping["fields"].values()
                 and not name.startswith(("hs_", "revops_")))  # fmt: skip
    settings = {**conn.settings, "mapping": {"account": {**mapping, "attributes": [spare]}}}
    CrmConnection.objects.filter(pk=conn.pk).update(settings=settings)
    conn.refresh_from_db()
    crm_id = fake.add("account", {**fake.sample("account", 1), spare: "evangelist"})
    sync(conn, push=False)
    assert Account.objects.get(external_id=crm_id).attributes == {spare: "evangelist"}


@pytest.mark.django_db
def test_credentials_cannot_be_saved_in_production_without_a_key(settings):
    from integrations.crm.secrets import CredentialsError
    from integrations.crm.services import connection_save

    settings.INTEGRATIONS_DEV_KEY_ALLOWED = False
    settings.INTEGRATIONS_ENCRYPTION_KEY = ""
    with pytest.raises(CredentialsError, match="INTEGRATIONS_ENCRYPTION_KEY"):
        connection_save(vendor="hubspot", name="Prod", values={"base_url": "https://x", "access_token": "t"})
    assert not CrmConnection.objects.exists()
