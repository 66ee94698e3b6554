"""Tier lists (every role, scoped like the account list) and tier movement (managers and admins)."""

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from segmentation.models import AccountScore, ScoringModel
from tests.conftest import forget_shared_counts

from ..factories import AccountFactory, AccountScoreFactory, ScoringModelFactory, TierChangeFactory

USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
TIERS = ["tier_1", "tier_2", "tier_3", "recycle", "suppress"]


def fresh(user: User) -> User:
    """The same user without the roles cached by an earlier request, as a real request would load it."""
    return User.objects.get(pk=user.pk)


# --- tier lists ---------------------------------------------------------------------------------------------------


@pytest.fixture
def model() -> ScoringModel:
    return ScoringModelFactory()


@pytest.fixture
def scores(world, model) -> dict[str, AccountScore]:
    """A score for each account of the world (and one unscored account in North, which no tier list shows)."""
    now = timezone.now()
    AccountFactory(name="Unscored North", territory=world.north, owner=world.north_rep)
    Account.objects.filter(pk=world.north_east_account.pk).update(industry="fintech", domain="ne-fintech.example")
    rows = {
        "owned_by_rep": dict(tier="tier_1", unified=80, fit=75, signal=70, coverage=0.5, flags=["surge"],
                             surge_until=now + dt.timedelta(days=5), tier_since=now - dt.timedelta(days=3)),
        "north_account": dict(tier="tier_2", unified=66, fit=72, signal=55, coverage=1.0, flags=["capacity"],
                              tier_since=now - dt.timedelta(days=9)),
        "north_east_account": dict(tier="tier_3", unified=40, fit=45, signal=20, coverage=0.0, flags=["min_days"],
                                   surge_until=now - dt.timedelta(days=2), tier_since=now - dt.timedelta(days=40)),
        "south_account": dict(tier="tier_2", unified=60, fit=80, signal=35, coverage=0.25,
                              flags=["surge", "capacity"], surge_until=now + dt.timedelta(days=1),
                              tier_since=now - dt.timedelta(days=1)),
        "unrouted_account": dict(tier="recycle", unified=12, fit=20, signal=3, coverage=0.0,
                                 tier_since=now - dt.timedelta(days=100)),
    }  # fmt: skip
    return {name: AccountScoreFactory(account=getattr(world, name), model=model, **row) for name, row in rows.items()}


def page(client, **params):
    response = client.get(reverse("tier-list"), params)
    assert response.status_code == 200
    return response


def listed(client, **params) -> list[int]:
    """The ids of the listed accounts, in the order shown."""
    return [row.record.pk for row in page(client, **params).context["table"].paginated_rows]


def exported_rows(client, **params) -> list[dict]:
    response = client.get(reverse("tier-export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def exported(client, **params) -> list[int]:
    return [int(row["id"]) for row in exported_rows(client, **params)]


def counts(response) -> dict[str, int]:
    context = response.context
    found = {tile["tier"]: tile["count"] for tile in context["tiles"]}
    found["surging"] = context["surging"]["count"]
    found["total"] = context["total"]["count"]
    return found


def expected_counts(world, scores, ids: set[int]) -> dict[str, int]:
    now = timezone.now()
    shown = [s for s in scores.values() if s.account_id in ids]
    found = {tier: sum(s.tier == tier for s in shown) for tier in TIERS}
    found["surging"] = sum(bool(s.surge_until and s.surge_until > now) for s in shown)
    found["total"] = len(shown)
    return found


@pytest.mark.parametrize("name", USERS)
def test_counts_table_and_export_show_exactly_the_users_scored_accounts(client, world, scores, name):
    client.force_login(getattr(world, name))
    expected = world.accounts_visible_to(name)  # every visible account of the world is scored
    response = page(client)
    assert {row.record.pk for row in response.context["table"].paginated_rows} == expected
    assert set(exported(client)) == expected
    assert counts(response) == expected_counts(world, scores, expected)
    text = response.content.decode()
    for attr in ("owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"):
        account = getattr(world, attr)
        assert (account.name in text) == (account.pk in expected), attr
    assert "Unscored North" not in text


def test_a_rep_of_another_territory_sees_none_of_north(client, world, scores):
    client.force_login(world.other_rep)
    response = page(client)
    assert listed(client) == [world.south_account.pk]
    assert counts(response) == {
        "tier_1": 0, "tier_2": 1, "tier_3": 0, "recycle": 0, "suppress": 0, "surging": 1, "total": 1,
    }  # fmt: skip
    # Filters and search never widen the scope, not even towards North by name or territory.
    assert listed(client, q="North") == []
    assert listed(client, territory=world.north.pk) == []
    assert exported(client, territory=world.north.pk) == []
    assert counts(page(client, territory=world.north.pk))["total"] == 0
    assert "Select a valid choice" in page(client, territory=world.north.pk).content.decode()


def test_default_order_is_best_tier_first_then_unified(client, world, scores):
    client.force_login(world.admin)
    expected = [
        world.owned_by_rep.pk,  # tier 1
        world.north_account.pk,  # tier 2, 66
        world.south_account.pk,  # tier 2, 60
        world.north_east_account.pk,  # tier 3
        world.unrouted_account.pk,  # recycle
    ]
    assert listed(client) == expected
    assert exported(client) == expected


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"tier": "tier_2"}, {"north_account", "south_account"}),
        ({"tier": "recycle"}, {"unrouted_account"}),
        ({"tier": "suppress"}, set()),
        ({"territory": "north"}, {"owned_by_rep", "north_account"}),
        ({"territory": "north_east"}, {"north_east_account"}),
        ({"owner": "north_rep"}, {"north_account"}),
        ({"owner": "none"}, {"north_east_account", "unrouted_account"}),
        ({"industry": "FINTECH"}, {"north_east_account"}),
        ({"surging": "yes"}, {"owned_by_rep", "south_account"}),
        ({"surging": "no"}, {"north_account", "north_east_account", "unrouted_account"}),
        ({"capacity": "yes"}, {"north_account", "south_account"}),
        ({"capacity": "no"}, {"owned_by_rep", "north_east_account", "unrouted_account"}),
        ({"q": "south"}, {"south_account"}),
        ({"q": "ne-fintech"}, {"north_east_account"}),  # by domain
        ({"tier": "tier_2", "capacity": "yes", "surging": "yes"}, {"south_account"}),
        ({"territory": "north", "surging": "no"}, {"north_account"}),
    ],
)
def test_every_filter(client, world, scores, params, names):
    params = dict(params)
    for key in ("territory", "owner"):
        if params.get(key) not in (None, "none"):
            params[key] = getattr(world, params[key]).pk
    client.force_login(world.admin)
    expected = {getattr(world, name).pk for name in names}
    assert set(listed(client, **params)) == expected
    # The export is the filtered list, row for row and in the same order.
    assert exported(client, **params) == listed(client, **params)


def test_owner_me_is_the_signed_in_user(client, world, scores):
    client.force_login(world.north_rep)
    assert listed(client, owner="me") == [world.north_account.pk]
    client.force_login(world.rep)
    assert listed(client, owner="me") == [world.owned_by_rep.pk]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("name", lambda s: s.account.name),
        ("unified", lambda s: s.unified),
        ("fit", lambda s: s.fit),
        ("signal", lambda s: s.signal),
        ("coverage", lambda s: s.coverage),
        ("tier_since", lambda s: s.tier_since),
        ("territory", lambda s: s.account.territory.name if s.account.territory else ""),
        ("owner", lambda s: s.account.owner.username if s.account.owner else ""),
    ],
)
def test_every_sort(client, world, scores, sort, key):
    client.force_login(world.admin)
    ordered = sorted(scores.values(), key=lambda s: (key(s), s.account_id))
    ascending = listed(client, sort=sort)
    descending = listed(client, sort=f"-{sort}")
    if sort in ("territory", "owner"):
        # Accounts without a territory or owner sort with the nulls, whose place depends on the database.
        named = [s.account_id for s in ordered if key(s)]
        assert [pk for pk in ascending if pk in named] == named
        assert [pk for pk in descending if pk in named] == named[::-1]
        return
    assert ascending == [s.account_id for s in ordered]
    assert descending == [s.account_id for s in reversed(ordered)]  # ties too: by id, descending


def test_sort_by_tier_and_surge(client, world, scores):
    client.force_login(world.admin)
    assert listed(client, sort="tier") == listed(client)
    assert listed(client, sort="-tier")[0] == world.unrouted_account.pk
    surging_last = listed(client, sort="surge_until")
    dated = [pk for pk in surging_last if scores_by_pk(scores)[pk].surge_until]
    assert dated == [world.north_east_account.pk, world.south_account.pk, world.owned_by_rep.pk]


def scores_by_pk(scores) -> dict[int, AccountScore]:
    return {s.account_id: s for s in scores.values()}


def test_the_page_shows_scores_flags_and_surge(client, world, scores):
    client.force_login(world.manager)
    text = page(client).content.decode()
    for words in ("Tier 1", "Tier 2", "Tier 3", "Surge", "Capacity held", "Min. days", "Surging</span> until", "ended"):
        assert words in text
    assert "Hysteresis" not in text
    assert '<td class="text-end">50%</td>' in text  # coverage, a share of the required personas
    assert reverse("account-detail", args=[world.owned_by_rep.pk]) in text
    assert reverse("tier-movement") in text  # managers get the movement link
    client.force_login(world.north_rep)
    assert reverse("tier-movement") not in page(client).content.decode()


def test_counts_follow_the_other_filters_and_link_to_the_filtered_list(client, world, scores):
    client.force_login(world.admin)
    response = page(client, territory=world.north.pk, tier="tier_1", sort="-unified", page=1)
    assert counts(response) == {
        "tier_1": 1, "tier_2": 1, "tier_3": 0, "recycle": 0, "suppress": 0, "surging": 1, "total": 2,
    }  # fmt: skip
    tiles = {tile["tier"]: tile for tile in response.context["tiles"]}
    assert tiles["tier_1"]["active"] and not tiles["tier_2"]["active"]
    assert tiles["tier_2"]["query"] == f"territory={world.north.pk}&tier=tier_2&sort=-unified"
    text = response.content.decode()
    assert f'href="?{tiles["tier_2"]["query"]}"'.replace("&", "&amp;") in text
    # Following a count lists exactly that many accounts.
    for tier, tile in tiles.items():
        assert len(listed(client, **dict(p.split("=") for p in tile["query"].split("&")))) == tile["count"], tier
    surging_query = response.context["surging"]["query"]
    assert "surging=yes" in surging_query and "tier=" not in surging_query


def test_the_surging_view(client, world, scores):
    client.force_login(world.admin)
    text = page(client).content.decode()
    assert 'href="?surging=yes"' in text
    response = page(client, surging="yes")
    assert "<h1" in response.content.decode() and "Surging accounts <small" in response.content.decode()
    assert set(listed(client, surging="yes")) == {world.owned_by_rep.pk, world.south_account.pk}


def test_the_export_has_the_rows_values(client, world, scores):
    client.force_login(world.north_rep)
    rows = exported_rows(client)
    assert [r["name"] for r in rows] == ["Owned by rep", "North account"]
    first = rows[0]
    score = scores["owned_by_rep"]
    assert first["tier"] == "tier_1" and float(first["unified"]) == 80 and float(first["fit"]) == 75
    assert float(first["signal"]) == 70 and float(first["coverage"]) == 0.5
    assert first["flags"] == "surge" and first["territory"] == "North" and first["owner"] == "rep"
    assert dt.datetime.fromisoformat(first["surge_until"]) == score.surge_until
    assert dt.datetime.fromisoformat(first["tier_since"]) == score.tier_since
    assert rows[1]["surge_until"] == "" and rows[1]["flags"] == "capacity"


def test_the_export_follows_the_pages_sort(client, world, scores):
    client.force_login(world.admin)
    by_fit = exported_rows(client, sort="-fit")
    fits = [float(r["fit"]) for r in by_fit]
    assert fits == sorted(fits, reverse=True) and len(set(fits)) > 1
    assert [r["name"] for r in exported_rows(client, sort="name")] == sorted(r["name"] for r in by_fit)
    assert [r["name"] for r in exported_rows(client, sort="nonsense")] == [r["name"] for r in exported_rows(client)]


def test_the_export_defuses_spreadsheet_formulas(client, world, model):
    AccountScoreFactory(account=AccountFactory(name="=cmd()", territory=world.north), model=model)
    client.force_login(world.manager)
    assert [r["name"] for r in exported_rows(client)] == ["'=cmd()"]


def test_pagination_and_a_fixed_number_of_queries(client, world, scores, model):
    def load(**params):
        client.force_login(fresh(world.manager))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("tier-list"), params)
        assert response.status_code == 200
        return response, len(queries.captured_queries)

    def add(numbers):
        for i in numbers:
            account = AccountFactory(name=f"Bulk {i:03d}", territory=world.north, owner=world.north_rep)
            AccountScoreFactory(account=account, model=model, unified=i % 50, flags=["surge"] if i % 2 else [])

    filters = {"page": 2, "tier": "tier_2", "capacity": "no", "q": "Bulk", "sort": "-fit"}
    _, few = load()
    add(range(60))
    _, few_filtered = load(**filters)
    add(range(60, 120))
    response, many = load()
    assert many == few
    # The page as opened reads its tile counts from the scores, scoped by their copy of territory and owner (two
    # look-ups of the user's territories); filtered, it counts the filtered accounts. Neither grows with the rows.
    _, filtered = load(**filters)
    assert filtered == few_filtered
    assert abs(filtered - few) <= 2
    response, _ = load(page=2)
    assert len(response.context["table"].paginated_rows) == 50
    assert response.context["table"].paginator.count == 123
    assert counts(response)["total"] == 123


@pytest.mark.parametrize("params", [{}, {"tier": "tier_2"}, {"tier": "tier_2", "page": 2}])
def test_the_list_as_opened_or_by_tile_counts_its_pages_from_the_tiles_not_from_the_accounts(
    client, world, model, params
):
    """At a million accounts a count of the list joins every account of the scope (tens of milliseconds a page); the
    page as opened, or with a tile chosen, already has that number in its tiles (read from the scores alone)."""
    from django.test.utils import override_settings

    for i in range(70):
        account = AccountFactory(name=f"Bulk {i:03d}", territory=world.north, owner=world.north_rep)
        AccountScoreFactory(account=account, model=model, unified=60 + i % 10, tier="tier_2")
    client.force_login(world.manager)
    with CaptureQueriesContext(connection) as queries:
        response = page(client, **params)
    counted_accounts = [
        q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "accounts_account" in q["sql"]
    ]
    assert counted_accounts == []
    tiles = counts(response)
    assert response.context["table"].paginator.count == tiles["tier_2" if params else "total"] == 70
    # Shared like the tiles (with their "counted at"): an account scored within the minute is counted after it.
    forget_shared_counts()
    with override_settings(COUNTS_CACHE_SECONDS=60):
        page(client, **params)
        AccountScoreFactory(account=AccountFactory(name="Later", territory=world.north), model=model, tier="tier_2")
        assert page(client, **params).context["table"].paginator.count == 70
        assert page(client, q="Bu", **params).context["table"].paginator.count == 70  # filtered: counted live
        assert page(client, q="La", **params).context["table"].paginator.count == 1
        forget_shared_counts()
        assert page(client, **params).context["table"].paginator.count == 71


def test_empty_state(client, world, scores):
    client.force_login(world.rep)
    assert "No scored accounts match" in page(client, q="no such thing").content.decode()
    client.force_login(world.sub_rep)
    AccountScore.objects.all().delete()
    response = page(client)
    assert counts(response)["total"] == 0 and "No scored accounts match" in response.content.decode()


def test_anonymous_and_outsider(client, world, scores):
    for url in (reverse("tier-list"), reverse("tier-export")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(world.outsider)
    for url in (reverse("tier-list"), reverse("tier-export")):
        response = client.get(url)
        assert response.status_code == 403 and "North account" not in response.content.decode()


# --- tier movement ------------------------------------------------------------------------------------------------


@dataclass
class Moves:
    start: dt.date
    end: dt.date
    north: dict[tuple[str, str], int]  # North and North-East: what `manager` sees
    south: dict[tuple[str, str], int]  # what `other_manager` sees


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


@pytest.fixture
def moves(world, model) -> Moves:
    """A hand-made set of moves in June 2024, plus moves just outside it and moves of accounts outside North."""
    start, end = dt.date(2024, 6, 1), dt.date(2024, 6, 30)

    def move(account, source, target, when):
        TierChangeFactory(account=account, model=model, from_tier=source, to_tier=target, at=when)

    # In the period, in North (and North-East, below it).
    move(world.north_account, "tier_3", "tier_2", at(start, 0, 0))  # the first moment counts
    move(world.north_account, "tier_2", "tier_1", at(dt.date(2024, 6, 10)))
    move(world.owned_by_rep, "tier_3", "tier_2", at(dt.date(2024, 6, 12)))
    move(world.north_east_account, "tier_2", "recycle", at(dt.date(2024, 6, 20)))
    move(world.north_east_account, "recycle", "suppress", at(end, 23, 59))  # the last day counts, all of it
    # In the period, outside North.
    move(world.south_account, "tier_3", "tier_2", at(dt.date(2024, 6, 15)))
    move(world.south_account, "tier_1", "tier_2", at(dt.date(2024, 6, 16)))
    move(world.unrouted_account, "recycle", "tier_3", at(dt.date(2024, 6, 17)))
    # Outside the period.
    move(world.north_account, "tier_1", "tier_2", at(end + dt.timedelta(days=1), 0, 0))
    move(world.north_account, "tier_2", "tier_3", at(start - dt.timedelta(days=1), 23, 59))
    move(world.south_account, "tier_2", "tier_1", at(dt.date(2024, 5, 1)))
    return Moves(
        start=start,
        end=end,
        north={("tier_3", "tier_2"): 2, ("tier_2", "tier_1"): 1, ("tier_2", "recycle"): 1, ("recycle", "suppress"): 1},
        south={("tier_3", "tier_2"): 1, ("tier_1", "tier_2"): 1},
    )


def matrix_of(response) -> dict[tuple[str, str], int]:
    matrix = response.context["matrix"]
    found = {}
    for source, row in zip(TIERS, matrix["rows"], strict=True):
        for target, cell in zip(TIERS, row["cells"], strict=True):
            if cell["count"]:
                found[(source, target)] = cell["count"]
    return found


def movement(client, moves: Moves, **params):
    return client.get(
        reverse("tier-movement"), {"start": moves.start.isoformat(), "end": moves.end.isoformat(), **params}
    )


@pytest.mark.parametrize(
    ("name", "scope"),
    [("manager", "north"), ("other_manager", "south"), ("admin", "all")],
)
def test_the_matrix_counts_the_moves_in_the_period_and_the_scope(client, world, moves, name, scope):
    client.force_login(getattr(world, name))
    response = movement(client, moves)
    assert response.status_code == 200
    if scope == "all":
        expected = dict(moves.north)
        for pair, n in moves.south.items():
            expected[pair] = expected.get(pair, 0) + n
        expected[("recycle", "tier_3")] = 1  # the account no territory holds
    else:
        expected = getattr(moves, scope)
    assert matrix_of(response) == expected
    matrix = response.context["matrix"]
    assert matrix["total"] == sum(expected.values())
    for source, row in zip(TIERS, matrix["rows"], strict=True):
        assert row["total"] == sum(n for (a, _), n in expected.items() if a == source)
    for target, column in zip(TIERS, matrix["columns"], strict=True):
        assert column["total"] == sum(n for (_, b), n in expected.items() if b == target)


def moves_listed(client, query: str) -> list[int]:
    response = client.get(f"{reverse('tier-moves')}?{query}")
    assert response.status_code == 200
    return [row.record.pk for row in response.context["table"].paginated_rows]


def moves_exported(client, query: str) -> list[dict]:
    response = client.get(f"{reverse('tier-moves-export')}?{query}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_each_cell_links_to_its_moves(client, world, moves):
    client.force_login(world.manager)
    response = movement(client, moves)
    text = response.content.decode()
    for source, row in zip(TIERS, response.context["matrix"]["rows"], strict=True):
        for target, cell in zip(TIERS, row["cells"], strict=True):
            if not cell["count"]:
                assert cell["query"] == ""
                continue
            assert f"{reverse('tier-moves')}?{cell['query']}".replace("&", "&amp;") in text
            listed_moves = moves_listed(client, cell["query"])
            assert len(listed_moves) == cell["count"] == moves.north[(source, target)]
            rows = moves_exported(client, cell["query"])
            assert [int(r["account_id"]) for r in rows] == [
                TierChangeFactory._meta.model.objects.get(pk=pk).account_id for pk in listed_moves
            ]
            assert {(r["from_tier"], r["to_tier"]) for r in rows} == {(source, target)}


def test_the_moves_list_shows_the_moves(client, world, moves):
    client.force_login(world.manager)
    query = f"start={moves.start}&end={moves.end}&from_tier=tier_3&to_tier=tier_2"
    response = client.get(f"{reverse('tier-moves')}?{query}")
    text = response.content.decode()
    for words in ("Owned by rep", "North account", "Tier 3", "Tier 2", "Tier 2: unified 56 &gt;= 55", "2024-06-12"):
        assert words in text
    assert "South account" not in text
    assert [r.record.account.name for r in response.context["table"].paginated_rows] == [
        "Owned by rep",  # latest first
        "North account",
    ]
    everything = moves_exported(client, f"start={moves.start}&end={moves.end}")
    assert len(everything) == sum(moves.north.values())
    assert {r["account"] for r in everything} == {"Owned by rep", "North account", "North-East account"}
    assert everything[0]["at"] == at(moves.end, 23, 59).isoformat()
    assert everything[0]["reason"].startswith("Tier 2: unified")
    client.force_login(world.other_manager)
    assert moves_listed(client, query) == [
        m.pk for m in TierChangeFactory._meta.model.objects.filter(account=world.south_account, from_tier="tier_3")
    ]


def test_the_default_period_is_the_last_30_days(client, world, model):
    today = timezone.localdate()
    for days_ago, target in ((0, "tier_1"), (29, "tier_2"), (30, "tier_3")):
        TierChangeFactory(
            account=world.north_account, model=model, from_tier="recycle", to_tier=target,
            at=at(today - dt.timedelta(days=days_ago), 0, 1),
        )  # fmt: skip
    client.force_login(world.admin)
    response = client.get(reverse("tier-movement"))
    assert response.status_code == 200
    assert matrix_of(response) == {("recycle", "tier_1"): 1, ("recycle", "tier_2"): 1}
    form = response.context["form"]
    assert form.cleaned_data["start"] == today - dt.timedelta(days=29) and form.cleaned_data["end"] == today
    assert f'value="{today - dt.timedelta(days=29):%Y-%m-%d}"' in response.content.decode()


def test_empty_state_when_nothing_moved(client, world, moves):
    client.force_login(world.manager)
    response = client.get(reverse("tier-movement"), {"start": "2023-01-01", "end": "2023-01-31"})
    assert response.status_code == 200 and response.context["matrix"]["total"] == 0
    text = response.content.decode()
    assert "changed tier between 2023-01-01 and 2023-01-31" in text and "<table" not in text
    empty = client.get(reverse("tier-moves"), {"start": "2023-01-01", "end": "2023-01-31"})
    assert "No tier moves match" in empty.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2024-06-30", "end": "2024-06-01"}, "must be on or before the end date"),
        ({"start": "2024-13-01"}, "Enter a valid date."),
        ({"end": "yesterday"}, "Enter a valid date."),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "Enter a date between 1900 and 2999."),
        ({"end": "9999-12-31"}, "Enter a date between 1900 and 2999."),
    ],
)
def test_a_bad_period_is_refused_with_a_message(client, world, moves, params, message):
    client.force_login(world.manager)
    for name in ("tier-movement", "tier-moves", "tier-moves-export"):
        response = client.get(reverse(name), params)
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
        assert "matrix" not in response.context and "table" not in response.context


def test_a_bad_tier_on_the_moves_list_is_refused(client, world, moves):
    client.force_login(world.manager)
    response = client.get(reverse("tier-moves"), {"from_tier": "tier_9"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_reps_are_refused_and_anonymous_users_sent_to_log_in(client, world, moves):
    urls = [reverse("tier-movement"), reverse("tier-moves"), reverse("tier-moves-export")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    for rep in (world.rep, world.north_rep, world.other_rep):
        client.force_login(rep)
        for url in urls:
            response = client.get(url, {"start": moves.start, "end": moves.end})
            assert response.status_code == 403
            text = response.content.decode()
            assert "Not allowed" in text and "North account" not in text and "Tier 3" not in text
    client.force_login(world.outsider)
    assert client.get(urls[0]).status_code == 403


def test_the_moves_list_pages_with_a_fixed_number_of_queries(client, world, model, moves):
    def load(**params):
        client.force_login(fresh(world.manager))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("tier-moves"), {"start": moves.start, "end": moves.end, **params})
        assert response.status_code == 200
        return response, len(queries.captured_queries)

    _, few = load()
    for i in range(60):
        TierChangeFactory(account=world.owned_by_rep, model=model, at=at(dt.date(2024, 6, 2), 1, i % 60))
    response, many = load(page=2)
    assert many == few
    assert response.context["table"].paginator.count == 65
    assert len(response.context["table"].paginated_rows) == 15
    client.force_login(fresh(world.manager))
    with CaptureQueriesContext(connection) as queries:
        movement(client, moves)
    matrix_queries = len(queries.captured_queries)
    TierChangeFactory(account=world.north_account, model=model, from_tier="tier_1", to_tier="recycle",
                      at=at(dt.date(2024, 6, 3)))  # fmt: skip
    client.force_login(fresh(world.manager))
    with CaptureQueriesContext(connection) as queries:
        movement(client, moves)
    assert len(queries.captured_queries) == matrix_queries


def _tbody(html: str) -> str:
    import re

    body = re.search(r"<tbody[^>]*>.*</tbody>", html, re.S).group(0)
    return re.sub(r"\s+>", ">", re.sub(r">\s+<", "><", re.sub(r"\s+", " ", body))).strip()


def test_the_rows_rendered_in_one_pass_are_those_django_tables2_renders(client, world, scores):
    """The tier list renders its rows from TierTable.page_cells (a third of the time); cell for cell, link for link,
    the same HTML as django-tables2's own rows: every column, with and without surge, flags, owner, territory and
    spend potential."""
    from django.template.loader import render_to_string
    from django_tables2 import RequestConfig

    from segmentation.tables import TierTable

    AccountScore.objects.filter(pk=scores["north_account"].pk).update(surge_until=None, flags=[])
    Account.objects.filter(pk=world.south_account.pk).update(owner=None)
    client.force_login(fresh(world.admin))
    request = page(client).wsgi_request
    table = TierTable(Account.objects.filter(score__isnull=False).select_related("score", "owner", "territory"))
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    ours = _tbody(render_to_string(TierTable.Meta.template_name, {"table": table}, request=request))
    theirs = _tbody(render_to_string("django_tables2/bootstrap5.html", {"table": table}, request=request))
    assert ours == theirs
    assert ours.count("<tr") == len(scores) and "Surging" in ours and "Capacity held" in ours
