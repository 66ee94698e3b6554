"""The demo's CRM: `load_demo` adds a HubSpot connection to a fake HubSpot the sync starts in-process."""

from django.core.management import call_command

from accounts.models import Account, Contact, Signal
from core.models import Job
from demo.loader import DEMO_CRM_NAME, demo_crm_connection
from integrations.crm.demo import DEMO_COMPANIES
from integrations.models import CrmConnection

from .conftest import sync


def test_the_demo_connection_syncs_with_the_demo_crm(db, capsys):
    demo_crm_connection()
    demo_crm_connection()  # loading the demo again adds nothing
    connection = CrmConnection.objects.get(name=DEMO_CRM_NAME)
    assert connection.settings["base_url"] == "demo:" and connection.push_enabled and not connection.push_confirmed
    job = sync(connection)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert Account.objects.filter(name__startswith="Northwind Demo").count() == DEMO_COMPANIES
    assert Contact.objects.count() == DEMO_COMPANIES
    assert Signal.objects.filter(kind__in=["meeting", "call", "email"]).exists()
    assert job.result["push_waiting"] is True
    call_command("crm_sync", "hubspot", "--pull")
    out = capsys.readouterr().out
    assert "HubSpot (demo): job #" in out and "accounts read: 0" in out  # nothing changed since
