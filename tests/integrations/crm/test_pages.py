"""The CRM pages: credentials never shown back and kept when left blank; no key in production: said, nothing saved;
a mapping that leaves a required field unfilled is refused with the reason, keeping the choices made."""

import pytest

from integrations.crm.sync import adapter_for, mapping_for
from integrations.models import CrmConnection

pytestmark = pytest.mark.django_db


def form(fake, **changes):
    values = fake.settings()
    data = {
        "vendor": fake.vendor,
        "name": "HubSpot production",
        "base_url": values.get("base_url") or values["instance_url"],
        "client_id": values["client_id"],
        "client_secret": values["client_secret"],
        "access_token": values["access_token"],
        "refresh_token": values["refresh_token"],
        "enabled": "on",
        "objects_enabled": ["account", "contact"],
        "push_tier": "crm_tier",
    }
    data.update({k: values[k] for k in ("token_url", "api_version", "ca_bundle") if k in values})
    data.update(changes)
    return data


def test_credentials_are_never_shown_back_and_blank_keeps_them(client, world, fake):
    client.force_login(world.admin)
    response = client.post("/integrations/crm/new/", form(fake))
    connection = CrmConnection.objects.get()
    assert response.status_code == 302
    page = client.get(f"/integrations/crm/{connection.pk}/edit/").content.decode()
    assert fake.settings()["access_token"] not in page and fake.settings()["client_secret"] not in page
    assert "saved (leave blank to keep)" in page
    edited = form(fake, name="HubSpot EU", access_token="", refresh_token="", client_secret="")
    response = client.post(f"/integrations/crm/{connection.pk}/edit/", edited)
    assert response.status_code == 302, response.context["form"].errors
    connection.refresh_from_db()
    assert connection.name == "HubSpot EU"
    assert connection.credentials["access_token"] == fake.settings()["access_token"]
    assert connection.enabled_objects() == ["account", "contact"]
    assert connection.push_field_names() == {"tier": "crm_tier"}  # the others left blank: not written


def test_without_a_key_in_production_the_form_says_so_and_saves_nothing(client, world, fake, settings):
    settings.INTEGRATIONS_DEV_KEY_ALLOWED = False
    settings.INTEGRATIONS_ENCRYPTION_KEY = ""
    client.force_login(world.admin)
    response = client.post("/integrations/crm/new/", form(fake))
    page = response.content.decode()
    assert response.status_code == 200 and "set INTEGRATIONS_ENCRYPTION_KEY" in page
    assert 'value="HubSpot production"' in page
    assert not CrmConnection.objects.exists()


def test_a_mapping_without_a_required_field_is_refused_and_keeps_the_choices(client, world, fake, connect):
    connection = connect()
    fake.add("opportunity", fake.sample("opportunity", 1))
    adapter = adapter_for(connection)
    names = mapping_for(connection, "opportunity", adapter)["fields"]  # the vendor's fields for name and amount
    label = dict(adapter.fields("opportunity"))[names["name"]]
    client.force_login(world.admin)
    url = f"/integrations/crm/{connection.pk}/mapping/opportunity/"
    page = client.get(url).content.decode()
    assert f"{label} ({names['name']})" in page and "Deal 1" in page  # the CRM's fields, labelled, with a sample
    response = client.post(url, {"field__name": names["name"], "field__amount": names["amount"]})
    page = response.content.decode()
    assert response.status_code == 200
    assert "No CRM field is chosen for Stage" in page
    assert f'<option value="{names["amount"]}" data-samples="1000" selected>' in page
    connection.refresh_from_db()
    assert "mapping" not in connection.settings


def test_a_salesforce_connection_wants_its_instance_url_and_writes_to_its_custom_fields(client, world):
    client.force_login(world.admin)
    data = {
        "vendor": "salesforce",
        "name": "Salesforce production",
        "base_url": "https://api.hubapi.com",  # the page's proposal, HubSpot's
        "access_token": "00D5g000004FAKE!token",
        "token_url": "https://test.salesforce.com/services/oauth2/token",
        "api_version": "61.0",
        "objects_enabled": ["account"],
        "push_enabled": "on",
        "push_score": "revops_score",
        "push_tier": "revops_tier",
        "push_owner": "",
        "push_handoff_status": "revops_handoff_status",
    }
    response = client.post("/integrations/crm/new/", data)
    assert response.status_code == 200
    assert "Give your Salesforce org&#x27;s instance URL" in response.content.decode()
    assert not CrmConnection.objects.exists()
    response = client.post("/integrations/crm/new/", {**data, "base_url": "https://acme.my.salesforce.com"})
    assert response.status_code == 302, response.context["form"].errors
    connection = CrmConnection.objects.get()
    assert connection.vendor == "salesforce"
    assert connection.settings["token_url"] == "https://test.salesforce.com/services/oauth2/token"
    assert connection.settings["api_version"] == "61.0"
    # HubSpot's proposed names become Salesforce's; a name left blank is still not written.
    assert connection.push_field_names() == {
        "score": "RevOps_Score__c",
        "tier": "RevOps_Tier__c",
        "handoff_status": "RevOps_MQA_Status__c",
    }


def test_a_second_sync_is_never_started_while_one_is_queued_whoever_asks(client, world, fake, connect):
    """The page's "Sync now", the first push's confirmation, the scheduler and the command share one rule: while a
    sync of the connection is queued or running, none of them starts another."""
    from io import StringIO

    from django.core.management import call_command

    from core.models import Job
    from integrations.crm.services import SyncRunning, sync_start
    from integrations.tasks import crm_sync_all_task

    connection = connect(push_enabled=True)
    queued = sync_start(connection=connection, enqueue=False)
    with pytest.raises(SyncRunning) as refused:
        sync_start(connection=connection, enqueue=False)
    assert refused.value.job == queued

    client.force_login(world.admin)
    response = client.post(f"/integrations/crm/{connection.pk}/sync/", follow=True)
    assert "already running" in response.content.decode()
    response = client.post(f"/integrations/crm/{connection.pk}/push/", follow=True)
    assert "A sync of this connection is running" in response.content.decode()
    crm_sync_all_task()
    err = StringIO()
    call_command("crm_sync", fake.vendor, "--connection", str(connection.pk), stdout=StringIO(), stderr=err)
    assert "a sync is already running; skipped" in err.getvalue()
    assert list(Job.objects.filter(kind=Job.Kind.CRM_SYNC).values_list("pk", "status")) == [
        (queued.pk, Job.Status.QUEUED)
    ]
