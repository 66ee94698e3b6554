"""Fake CRMs, one per vendor, each a real HTTP server with the same control interface (see fakes/hubspot.py and
integrations/crm/adapter.py): the sync's tests run unchanged against every fake in FAKES."""

from .hubspot import FakeHubSpot
from .salesforce import FakeSalesforce

FAKES = {"hubspot": FakeHubSpot, "salesforce": FakeSalesforce}
