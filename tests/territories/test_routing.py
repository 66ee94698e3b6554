"""The pure routing rules: matching and owner choice, with hand-made cases."""

import datetime as dt
import random

from accounts.criteria import Criterion
from accounts.criteria import all_groups_match as criteria_match
from territories.routing import (
    Matcher,
    Member,
    Router,
    TerritoryRule,
    pick_load_balanced,
    pick_round_robin,
    rotate,
)

TODAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
US = Criterion("country", "eq", "United States")


def test_groups_are_alternatives_and_every_group_must_match():
    criteria = (
        Criterion("country", "eq", "France", group="geo"),
        Criterion("country", "eq", "Spain", group="geo"),
        Criterion("employee_count", "gte", 100, group="size"),
    )
    assert criteria_match(criteria, {"country": "spain", "employee_count": 500})
    assert not criteria_match(criteria, {"country": "Spain", "employee_count": 50})
    assert not criteria_match(criteria, {"country": "Italy", "employee_count": 500})
    assert not criteria_match((), {"country": "Spain"})  # no criteria: matches by name only


def test_named_account_beats_rules():
    rules = TerritoryRule(1, "US", criteria=(US,))
    named = TerritoryRule(2, "Strategic", priority=999, named_account_ids=frozenset({7}))
    matcher = Matcher([rules, named])
    assert matcher.match(7, {"country": "United States"})[0].id == 2
    assert matcher.match(8, {"country": "United States"})[0].id == 1


def test_deeper_beats_parent_and_priority_orders_equals():
    parent = TerritoryRule(1, "Americas", criteria=(Criterion("country", "in", ["United States", "Canada"]),))
    child = TerritoryRule(2, "US", parent_id=1, priority=50, criteria=(US,))
    sibling = TerritoryRule(
        3, "US enterprise", parent_id=1, priority=10, criteria=(US, Criterion("employee_count", "gte", 1000, "size"))
    )
    matcher = Matcher([parent, child, sibling])
    assert matcher.match(1, {"country": "Canada"})[0].id == 1
    assert matcher.match(1, {"country": "United States", "employee_count": 10})[0].id == 2
    assert matcher.match(1, {"country": "United States", "employee_count": 5000})[0].id == 3  # lower priority number


def test_inactive_territories_are_ignored_and_no_match_is_unassigned():
    inactive = TerritoryRule(1, "US", criteria=(US,), is_active=False, named_account_ids=frozenset({5}))
    matcher = Matcher([inactive])
    assert matcher.match(5, {"country": "United States"}) == (None, "no territory matches")


def test_members_away_inactive_or_full_are_skipped():
    members = [
        Member(1, away_from=dt.date(2026, 5, 30), away_until=dt.date(2026, 6, 2)),
        Member(2, is_active=False),
        Member(3, max_accounts=0),
        Member(4, max_accounts=2, owned=2),
        Member(5, is_rep=False),
        Member(6, max_accounts=3, owned=2),
    ]
    assert pick_round_robin(members, None, TODAY).user_id == 6
    assert pick_load_balanced(members, TODAY).user_id == 6
    assert pick_round_robin(members[:5], None, TODAY) is None
    # Back from holiday the day after away_until: eligible again.
    assert members[0].is_eligible(dt.date(2026, 6, 3))


def test_round_robin_continues_after_the_last_member_served():
    members = [Member(10), Member(20), Member(30)]
    assert pick_round_robin(members, None, TODAY).user_id == 10
    assert pick_round_robin(members, 10, TODAY).user_id == 20
    assert pick_round_robin(members, 30, TODAY).user_id == 10
    assert pick_round_robin(members, 25, TODAY).user_id == 30  # the last one served has left


def test_load_balanced_uses_ratio_then_longest_wait():
    members = [
        Member(1, max_accounts=10, owned=5, last_assigned_at=NOW),
        Member(2, max_accounts=100, owned=20, last_assigned_at=NOW),  # 0.2 < 0.5
        Member(3, max_accounts=100, owned=20, last_assigned_at=NOW - dt.timedelta(days=1)),  # same ratio, waited longer
    ]
    assert pick_load_balanced(members, TODAY).user_id == 3


def _route_many(n_accounts: int, members: list[Member], strategy: str, order: list[int]) -> dict[int, int]:
    territory = TerritoryRule(1, "All", criteria=(Criterion("name", "exists"),), strategy=strategy)
    router = Router(Matcher([territory]), {1: members}, {1: None}, TODAY, NOW)
    counts: dict[int, int] = {}
    for account_id in order:
        decision = router.route(account_id, {"name": f"a{account_id}"}, None, None)
        router.commit(decision, old_owner_id=None, old_territory_id=None)
        if decision.owner_id:
            counts[decision.owner_id] = counts.get(decision.owner_id, 0) + 1
    return counts


def test_fairness_1000_accounts_over_7_reps_one_away_one_full():
    for strategy in ("round_robin", "load_balanced"):
        for seed in (1, 2):
            members = [Member(uid) for uid in range(1, 8)]
            members[2].away_from, members[2].away_until = TODAY, TODAY + dt.timedelta(days=7)
            members[5].max_accounts = 40
            order = list(range(1000))
            random.Random(seed).shuffle(order)
            counts = _route_many(1000, members, strategy, order)
            assert 3 not in counts  # away
            assert counts[6] == 40  # full at 40
            rest = [counts[uid] for uid in (1, 2, 4, 5, 7)]
            assert sum(rest) == 960
            assert max(rest) - min(rest) <= 1, (strategy, rest)


def test_the_matching_shortcut_gives_the_same_answer_as_trying_every_territory():
    """Matcher indexes `eq` requirements for speed; on random territories and accounts it must agree with the rules."""
    rng = random.Random(5)
    countries = ["France", "Germany", "Spain", "Italy", "10", " "]
    territories = []
    for tid in range(1, 40):
        criteria = []
        if rng.random() < 0.8:
            criteria += [Criterion("country", "eq", c, group="geo") for c in rng.sample(countries, rng.randint(1, 2))]
        if rng.random() < 0.3:  # a second text requirement, and a group mixing `eq` with another operator
            criteria.append(Criterion("industry", "eq", rng.choice(["Software", "Retail"]), group="industry"))
        if rng.random() < 0.2:
            criteria.append(Criterion("industry", "contains", "soft", group="industry"))
        if rng.random() < 0.5:
            criteria.append(Criterion("employee_count", "gte", rng.choice([10, 100, 1000]), group="size"))
        if rng.random() < 0.2:
            criteria.append(Criterion("technologies", "contains", "Snowflake", group="tech"))
        territories.append(
            TerritoryRule(
                tid,
                f"T{tid}",
                parent_id=rng.choice([None, None, max(1, tid - 3)]) if tid > 3 else None,
                priority=rng.randint(1, 5),
                criteria=tuple(criteria),
            )
        )
    matcher = Matcher(territories)

    def slow(values):
        ranked = sorted((t for t in territories if t.criteria), key=matcher._rank)
        return next((t.id for t in ranked if criteria_match(t.criteria, values)), None)

    for _ in range(4000):
        values = {
            "country": rng.choice([*countries, " france ", None, "", "  ", 10, 10.0, "10.0", ["France"], []]),
            "industry": rng.choice([None, "software", " Retail", "Software tools", 7, ["Retail"]]),
            "employee_count": rng.choice([None, 5, 50, 500, 5000, "5000"]),
            "technologies": rng.choice([[], ["Snowflake"], ["AWS"]]),
        }
        found = matcher.match(0, values)[0]
        assert (found.id if found else None) == slow(values), values


def test_territory_criteria_are_validated_for_the_admin_forms(db):
    import pytest
    from django.core.exceptions import ValidationError

    from territories.models import Territory

    parent = Territory.objects.create(name="P")
    child = Territory.objects.create(name="C", parent=parent)
    for criteria, message in [
        ([{"attribute": "country", "operator": "like", "value": "x"}], "Unknown operator 'like'"),
        (
            [{"attribute": "employee_count", "operator": "between", "value": [1]}],
            "`between` needs [low, high] numbers.",
        ),
        ([{"attribute": "employee_count", "operator": "gte", "value": "many"}], "`gte` needs a number."),
        ([{"operator": "eq", "value": "x"}], "needs an attribute and an operator"),
        ("country=France", "Criteria are a list"),
    ]:
        territory = Territory(name="T", criteria=criteria)
        with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
            territory.clean()
    parent.parent = child
    with pytest.raises(ValidationError, match="cannot sit below itself"):
        parent.clean()
    Territory(
        name="OK", criteria=[{"group": "geo", "attribute": "country", "operator": "in", "value": ["France"]}]
    ).clean()


def test_the_router_rotates_as_the_plain_pick_and_rotate_do():
    """The router hands the pick's credits to `commit` instead of computing them twice; over random weights,
    absences, capacities and owners leaving mid-run, its choices must be those of `pick_round_robin` then `rotate`."""
    rng = random.Random(11)
    for _ in range(20):

        def team(seed):
            r = random.Random(seed)
            members = [
                Member(uid, weight=r.choice([1, 1, 2, 0.5]), max_accounts=r.choice([None, None, 30]))
                for uid in range(1, 8)
            ]
            members[r.randrange(7)].away_from = TODAY
            return [*members, Member(98, is_active=False, owned=50)]  # a member who left, owning accounts here

        seed = rng.random()
        territory = TerritoryRule(1, "All", criteria=(Criterion("name", "exists"),))
        router = Router(Matcher([territory]), {1: team(seed)}, {1: None}, TODAY, NOW)
        plain, last = team(seed), None
        # New accounts, accounts of someone elsewhere (territory 2), accounts here of the member who left.
        before = [rng.choice([(None, None), (None, None), (99, 2), (98, 1)]) for _ in range(300)]
        for account_id, (old_owner, old_territory) in enumerate(before):
            decision = router.route(account_id, {"name": "a"}, old_owner, old_territory)
            router.commit(decision, old_owner_id=old_owner, old_territory_id=old_territory)
            chosen = pick_round_robin(plain, last, TODAY)
            if chosen is not None:
                rotate(plain, chosen.user_id, TODAY)
                chosen.owned += 1
                last = chosen.user_id
            assert decision.owner_id == (chosen.user_id if chosen else None)
        assert [round(m.credit, 9) for m in router.members[1]] == [round(m.credit, 9) for m in plain]
