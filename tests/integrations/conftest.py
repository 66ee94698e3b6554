"""What the events' and the feed's tests share: a model easy to place by hand, and an account handed to its rep."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Account
from handoffs.models import Handoff
from integrations.models import WebhookEndpoint
from integrations.webhooks.services import endpoint_create
from segmentation import services
from segmentation.models import AccountScore
from tests.factories import ICPFactory, ScoringModelFactory, SignalFactory

from .chat_servers import chat_server
from .receiver import Receiver

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def fit_model(**kwargs):
    """A model whose fit (and unified) is the account's employee count, 0-100: easy to place by hand."""
    icp = ICPFactory(
        criteria=[
            {"group": "Size", "attribute": "employee_count", "operator": "gte", "value": n, "points": n}
            for n in range(0, 101)
        ],
        exclusions=[],
    )
    values = {"w_fit": 1.0, "w_signal": 0.0, "w_coverage": 0.0, "surge_delta": 100, "mqa_signal_min": 25, **kwargs}
    return ScoringModelFactory(icp=icp, **values)


def publish(model, capture, as_of=T0, user=None):
    with capture(execute=True):
        job = services.model_publish(model=model, user=user, as_of=as_of)
    job.refresh_from_db()
    assert job.status == job.Status.SUCCEEDED, job.error
    return job


def set_fit(account, fit):
    Account.objects.filter(pk=account.pk).update(employee_count=fit)


def score(account):
    return AccountScore.objects.get(account=account)


@pytest.fixture
def qualified(world, django_capture_on_commit_callbacks):
    """North account (north_rep's) in Tier 2 with signal enough: an MQA handed to north_rep."""
    start = timezone.now() - dt.timedelta(days=1)
    account = world.north_account
    set_fit(account, 60)  # unified 60: Tier 2 (enter 55)
    for _ in range(3):
        SignalFactory(account=account, kind="meeting", occurred_at=start - dt.timedelta(hours=1))
    publish(fit_model(), django_capture_on_commit_callbacks, as_of=start, user=world.admin)
    handoff = Handoff.objects.get(account=account)
    assert (score(account).tier, handoff.owner) == ("tier_2", world.north_rep)
    return handoff


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
