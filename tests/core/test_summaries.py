"""Whole-scope counts (accounts per territory on the home and territories pages, the tier tiles) are shared for
COUNTS_CACHE_SECONDS and say when they were counted; each scope has its own; lists and queues stay live."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from tests.conftest import forget_shared_counts
from tests.factories import AccountFactory, AccountScoreFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_counts():
    forget_shared_counts()
    with override_settings(COUNTS_CACHE_SECONDS=60):
        yield
    forget_shared_counts()


def territory_counts(client, user, name="home") -> dict[str, int]:
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert 'id="counted-at"' in response.content.decode()
    return {t.name: t.account_total for t in response.context["territories"]}


def tiles(client, user) -> dict[str, int]:
    client.force_login(user)
    response = client.get(reverse("tier-list"))
    assert response.status_code == 200
    return {t["tier"]: t["count"] for t in response.context["tiles"]}


def test_territory_counts_are_shared_for_a_while_then_counted_again(client, world, shared_counts):
    for name in ("home", "territory-list"):
        forget_shared_counts()
        before = territory_counts(client, world.admin, name)["North"]
        AccountFactory(territory=world.north)
        assert territory_counts(client, world.admin, name)["North"] == before  # shared
        # A manager's scope is counted for itself (North and below), already with the new account.
        assert territory_counts(client, world.manager, name) == {"North": before + 1, "North-East": 1}
        forget_shared_counts()  # as when COUNTS_CACHE_SECONDS have passed
        assert territory_counts(client, world.admin, name)["North"] == before + 1
        # The territory's own page and the account list count live.
        client.force_login(world.admin)
        detail = client.get(reverse("territory-detail", args=[world.north.pk]))
        AccountFactory(territory=world.north)
        detail = client.get(reverse("territory-detail", args=[world.north.pk]))
        assert detail.context["territory"].account_total == before + 2


def test_tier_tiles_are_shared_per_scope(client, world, shared_counts):
    model = ScoringModelFactory()
    AccountScoreFactory(account=world.north_account, model=model, tier="tier_1")
    assert tiles(client, world.admin)["tier_1"] == 1
    assert tiles(client, world.other_manager)["tier_1"] == 0  # the South: its own scope, its own count
    AccountScoreFactory(account=world.south_account, model=model, tier="tier_1")
    assert tiles(client, world.admin)["tier_1"] == 1  # shared
    assert tiles(client, world.other_manager)["tier_1"] == 0  # shared too
    assert tiles(client, world.other_rep)["tier_1"] == 1  # a scope not counted yet
    # Filtered, the tiles count the filtered accounts live.
    client.force_login(world.admin)
    response = client.get(reverse("tier-list"), {"q": "account"})
    assert {t["tier"]: t["count"] for t in response.context["tiles"]}["tier_1"] == 2
    forget_shared_counts()
    assert tiles(client, world.admin)["tier_1"] == 2


def test_without_sharing_every_load_counts(client, world):
    assert territory_counts(client, world.admin)["North"] == 2
    AccountFactory(territory=world.north)
    assert territory_counts(client, world.admin)["North"] == 3


def test_once_stale_one_reader_counts_again_while_the_others_get_the_last_answer(shared_counts):
    """At a million accounts an admin's pick lists cost most of a second: when the minute has passed, the first
    reader counts again and the readers arriving meanwhile are served the last answer, not a count each."""
    import datetime as dt
    from unittest import mock

    from django.utils import timezone

    from core.summaries import counted, summary_key

    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert counted("example", "scope", compute)[0] == 1
    assert counted("example", "scope", compute)[0] == 1 and len(calls) == 1  # shared
    renewing = summary_key("example", "scope") + ":renewing"
    with mock.patch("core.summaries.timezone.now", return_value=timezone.now() + dt.timedelta(seconds=61)):
        cache.add(renewing, True)  # another reader is counting it again
        assert counted("example", "scope", compute)[0] == 1 and len(calls) == 1
        cache.delete(renewing)
        assert counted("example", "scope", compute)[0] == 2 and len(calls) == 2  # this one counts again
        assert counted("example", "scope", compute)[0] == 2 and len(calls) == 2  # and it is fresh for the others
        assert cache.get(renewing) is None
    assert counted("other", "scope", compute)[0] == 3  # another name, its own count
