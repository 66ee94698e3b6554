"""Fake CRMs, one per vendor, each a real HTTP server with the same control interface (see fakes/hubspot.py and
integrations/crm/adapter.py): the sync's tests run unchanged against every fake in FAKES."""

from functools import partial

from .hubspot import FakeHubSpot
from .salesforce import FakeSalesforce

FAKES = {
    "hubspot": FakeHubSpot,
    # Salesforce answers a query in batches of its choosing (2,000 at most, fewer for wide records): 100 here, as
    # HubSpot's search pages, so "after n pages" means the same records for every fake.
    "salesforce": partial(FakeSalesforce, page_size=100),
}
