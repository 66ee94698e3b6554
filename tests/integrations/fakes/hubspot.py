"""The fake HubSpot the tests run the connector against. It lives with the product (integrations/crm/fake_hubspot.py)
because the demo runs a sync against it too."""

from integrations.crm.fake_hubspot import FakeHubSpot

__all__ = ["FakeHubSpot"]
