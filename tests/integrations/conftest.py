import pytest

from .chat_servers import chat_server


@pytest.fixture
def slack():
    with chat_server("slack") as server:
        yield server


@pytest.fixture
def teams():
    with chat_server("teams") as server:
        yield server


@pytest.fixture
def local_webhooks(settings):
    """The stand-ins listen on http://127.0.0.1: allowed here, refused by default."""
    settings.ALERTS_ALLOW_HTTP = True
    settings.ALERTS_ALLOW_PRIVATE_URLS = True
    settings.SITE_URL = "https://revops.example.com"
    settings.ALERTS_COOLDOWN_SECONDS = 300
    return settings
