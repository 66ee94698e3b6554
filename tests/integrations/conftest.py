import pytest

from integrations.models import WebhookEndpoint
from integrations.webhooks.services import endpoint_create

from .receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def make_endpoint(db):
    def make(url: str, *, kinds=("tier.changed", "mqa.raised"), name="Warehouse", user=None) -> WebhookEndpoint:
        return endpoint_create(endpoint=WebhookEndpoint(name=name, url=url, kinds=list(kinds)), user=user)

    return make
