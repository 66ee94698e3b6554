"""Weighted round robin: each rep's count stays within one of its exact share, across runs; no burst after an
absence; equal weights rotate as before."""

import datetime as dt
import random
from collections import Counter

import pytest

from accounts.criteria import Criterion
from accounts.models import Account
from territories.models import Membership
from territories.routing import Matcher, Member, Router, TerritoryRule, pick_round_robin
from territories.services import assignment_apply

from ..factories import AccountFactory, MembershipFactory, TerritoryFactory, UserFactory

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
ALL = TerritoryRule(1, "All", criteria=(Criterion("name", "exists"),))


def _router(members: list[Member], last: int | None = None) -> Router:
    return Router(Matcher([ALL]), {1: members}, {1: last}, TODAY, NOW)


def _route(router: Router, n: int, start: int = 0) -> list[int]:
    chosen = []
    for account_id in range(start, start + n):
        decision = router.route(account_id, {"name": f"a{account_id}"}, None, None)
        router.commit(decision, old_owner_id=None, old_territory_id=None)
        chosen.append(decision.owner_id)
    return chosen


def test_each_rep_stays_within_one_of_its_exact_share_over_random_weights_and_runs():
    rng = random.Random(7)
    for _ in range(300):
        weights = {uid: rng.choice([0.25, 0.5, 1, 1.5, 2, 3, 5, round(rng.uniform(0.1, 10), 2)]) for uid in range(1, 8)}
        weights = dict(list(weights.items())[: rng.randint(1, 7)])
        total = sum(weights.values())
        credits = {uid: 0.0 for uid in weights}
        last, counts, routed = None, Counter(), 0
        for _run in range(rng.randint(1, 5)):  # the credits and the last served carry from run to run
            members = [Member(uid, weight=w, credit=credits[uid]) for uid, w in weights.items()]
            router = _router(members, last)
            for n, owner in enumerate(_route(router, rng.randint(1, 120), routed), start=routed + 1):
                counts[owner] += 1
                for uid, weight in weights.items():
                    assert abs(counts[uid] - n * weight / total) < 1, (weights, n, dict(counts))
                routed = n
            credits = {m.user_id: m.credit for m in members}
            last = router.rotation[1]


def test_equal_weights_rotate_as_the_plain_rotation_did():
    """The plain rotation: the next eligible member after the last one served, in user id order."""

    def plain(members, last):
        ordered = sorted(members, key=lambda m: m.user_id)
        start = next((i for i, m in enumerate(ordered) if last is not None and m.user_id > last), 0)
        for offset in range(len(ordered)):
            member = ordered[(start + offset) % len(ordered)]
            if member.is_eligible(TODAY):
                return member
        return None

    rng = random.Random(3)
    for _ in range(200):
        members = [Member(uid, weight=2.0) for uid in rng.sample(range(1, 40), rng.randint(1, 6))]
        for member in members:  # some are away throughout, some fill up along the way
            member.is_active = rng.random() > 0.15
            member.max_accounts = rng.choice([None, None, rng.randint(0, 20)])
        router = _router(members, rng.choice([None, *[m.user_id for m in members]]))
        last = router.rotation[1]
        for account_id in range(60):
            expected = plain(members, last)
            assert pick_round_robin(members, last, TODAY) == expected
            decision = router.route(account_id, {"name": "a"}, None, None)
            router.commit(decision, old_owner_id=None, old_territory_id=None)
            last = router.rotation[1]


def test_a_weight_of_two_takes_twice_as_many():
    members = [Member(1), Member(2, weight=2.0), Member(3)]
    counts = Counter(_route(_router(members), 400))
    assert counts == {1: 100, 2: 200, 3: 100}


def test_an_unavailable_rep_gains_no_credit_and_comes_back_neutral():
    members = [Member(1), Member(2), Member(3, weight=2.0)]
    router = _router(members)
    _route(router, 3)
    members[0].away_from, members[0].away_until = TODAY, TODAY  # away today
    _route(router, 50, 3)
    assert members[0].credit == 0  # neutral, not 50 accounts behind
    assert abs(sum(m.credit for m in members)) < 1e-9  # what it held went to the others
    members[0].away_from = members[0].away_until = None
    back = _route(router, 4, 53)
    assert back.count(1) == 1  # its share of 4 (1 of 4): no catch-up burst


@pytest.mark.django_db
def test_thirty_days_of_new_accounts_with_a_rep_away_for_days_10_to_20():
    territory = TerritoryFactory(name="All", criteria=[{"attribute": "name", "operator": "exists"}])
    weights = {"ann": 1, "bob": 2, "cy": 1, "dee": 3}
    members = {
        name: MembershipFactory(user=UserFactory(username=name, role="rep"), territory=territory, weight=weight)
        for name, weight in weights.items()
    }
    start = dt.date(2026, 3, 1)
    Membership.objects.filter(pk=members["bob"].pk).update(
        away_from=start + dt.timedelta(days=9), away_until=start + dt.timedelta(days=19)
    )
    rng = random.Random(11)
    share_back = count_back = 0.0
    for day_index in range(30):
        day = start + dt.timedelta(days=day_index)
        ids = [AccountFactory(name=f"d{day_index}-{i}").pk for i in range(rng.randint(3, 9))]
        before = Counter(Account.objects.filter(owner__isnull=False).values_list("owner__username", flat=True))
        assignment_apply(user=None, account_ids=ids, today=day)
        after = Counter(Account.objects.filter(owner__isnull=False).values_list("owner__username", flat=True))
        got = after["bob"] - before["bob"]
        away = 9 <= day_index <= 19
        if away:
            assert got == 0
            continue
        if day_index > 19:  # back: its share counts only over the days it was here again
            share_back += len(ids) * weights["bob"] / sum(weights.values())
            count_back += got
            assert abs(count_back - share_back) < 1, (day_index, count_back, share_back)
    assert sum(after.values()) == Account.objects.count()
    credits = Membership.objects.filter(territory=territory).values_list("rotation_credit", flat=True)
    assert abs(sum(credits)) < 1e-6 and all(abs(c) < 1 for c in credits)
