"""Account list, export and detail pages: each user sees exactly their scope; filters never widen it."""

import csv
import datetime as dt
import io
import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from segmentation.models import Play

from ..factories import (
    AccountFactory,
    AccountScoreFactory,
    ContactFactory,
    MQAFactory,
    OpportunityFactory,
    SignalFactory,
    TierChangeFactory,
)

USERS = ["admin", "manager", "other_manager", "rep", "north_rep", "sub_rep", "other_rep"]
ALL = ["owned_by_rep", "north_account", "north_east_account", "south_account", "unrouted_account"]


def listed(client, **params) -> set[int]:
    response = client.get(reverse("account-list"), params)
    assert response.status_code == 200
    return {row.record.pk for row in response.context["table"].paginated_rows}


def exported(client, **params) -> set[int]:
    response = client.get(reverse("account-export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return {int(row["ID"]) for row in csv.DictReader(io.StringIO(body))}


@pytest.mark.parametrize("name", USERS)
def test_list_and_export_show_exactly_the_users_accounts(client, world, name):
    client.force_login(getattr(world, name))
    expected = world.accounts_visible_to(name)
    assert listed(client) == expected
    assert exported(client) == expected


@pytest.mark.parametrize("name", USERS)
def test_filters_and_search_never_widen_the_scope(client, world, name):
    client.force_login(getattr(world, name))
    expected = world.accounts_visible_to(name)
    for territory in (world.north, world.north_east, world.south):
        assert listed(client, territory=territory.pk) <= expected
    for params in (
        {"q": "account"},
        {"q": "South"},
        {"owner": world.other_rep.pk},
        {"owner": "none"},
        {"industry": "software"},
    ):
        assert listed(client, **params) <= expected
        assert exported(client, **params) <= expected


def test_search_filter_and_sort(client, world):
    client.force_login(world.admin)
    assert listed(client, q="north-east") == {world.north_east_account.pk}
    assert listed(client, owner="me") == set()
    assert listed(client, owner="none") == {world.north_east_account.pk, world.unrouted_account.pk}
    assert listed(client, territory=world.south.pk) == {world.south_account.pk}
    response = client.get(reverse("account-list"), {"sort": "-name"})
    names = [row.record.name for row in response.context["table"].paginated_rows]
    assert names == sorted(names, reverse=True)
    client.force_login(world.north_rep)
    assert listed(client, owner="me") == {world.north_account.pk}


def test_the_territory_filter_offers_only_visible_territories(client, world):
    client.force_login(world.other_manager)
    response = client.get(reverse("account-list"))
    choices = {str(v) for v, _ in response.context["filter"].form.fields["territory"].choices if v}
    assert choices == {str(world.south.pk)}
    # A territory outside the scope is refused as an invalid choice, showing nothing (not the whole scope).
    response = client.get(reverse("account-list"), {"territory": world.north.pk})
    assert "territory" in response.context["filter"].errors
    assert listed(client, territory=world.north.pk) == set()
    assert exported(client, territory=world.north.pk) == set()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "offered"),
    [
        ("other_manager", {"other_rep"}),
        ("north_rep", {"manager"}),
        ("rep", set()),
        ("admin", {"manager", "other_manager", "north_rep", "sub_rep", "other_rep"}),
    ],
)
def test_the_owner_filter_offers_me_and_members_of_visible_territories(client, world, name, offered):
    client.force_login(getattr(world, name))
    response = client.get(reverse("account-list"))
    choices = dict(response.context["filter"].owner_choices())
    assert choices.pop("me") == "Me" and choices.pop("none") == "Unassigned"
    usernames = {u.username for u in User.objects.filter(pk__in=[int(pk) for pk in choices])}
    assert usernames == offered
    page = response.content.decode()
    assert 'value="me"' in page and "Unassigned" in page


@pytest.mark.parametrize("name", ["admin", "other_manager"])
def test_the_pick_lists_read_as_values_say_what_the_forms_and_users_would(client, world, name):
    """The territory and owner pick lists are read as (id, name) values, not as objects: their labels are the form
    field's own choices and each user's get_full_name() (or username), in the same order."""
    world.north_rep.first_name, world.north_rep.last_name = "Nora", "  North"
    world.north_rep.save()
    world.manager.first_name, world.manager.last_name = "Max", ""
    world.manager.save()
    world.other_rep.first_name, world.other_rep.last_name = "", ""
    world.other_rep.save()
    client.force_login(getattr(world, name))
    response = client.get(reverse("account-list"))
    account_filter = response.context["filter"]
    form_choices = [(str(value), str(label)) for value, label in account_filter.form.fields["territory"].choices]
    assert account_filter.territory_choices == form_choices
    assert len(form_choices) > 1
    owners = account_filter.owner_choices()[2:]
    users = User.objects.in_bulk([int(pk) for pk, _ in owners])
    assert owners == [(pk, users[int(pk)].get_full_name() or users[int(pk)].username) for pk, _ in owners]
    if name == "admin":
        labels = dict(owners)
        assert labels[str(world.north_rep.pk)] == "Nora   North" and labels[str(world.manager.pk)] == "Max"
        assert labels[str(world.other_rep.pk)] == world.other_rep.username  # no name: the username


def test_the_owner_pick_list_is_shared_for_a_minute_and_a_member_added_meanwhile_can_be_filtered_by(client, world):
    from django.test import override_settings

    from tests.conftest import forget_shared_counts

    from ..factories import MembershipFactory

    with override_settings(COUNTS_CACHE_SECONDS=60):
        forget_shared_counts()
        client.force_login(world.manager)
        client.get(reverse("account-list"))
        newcomer = MembershipFactory(territory=world.north, user__first_name="Nia", user__last_name="Newcomer").user
        account = AccountFactory(name="Newcomer's account", territory=world.north, owner=newcomer)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("account-list"), {"owner": newcomer.pk})
        assert not [q for q in captured.captured_queries if "DISTINCT" in q["sql"] and "auth_user" in q["sql"]]
        assert f'<option value="{newcomer.pk}"' not in response.content.decode()  # the list as read a moment ago
        assert [row.record.pk for row in response.context["table"].paginated_rows] == [account.pk]  # still found
        forget_shared_counts()  # as when the minute has passed
        response = client.get(reverse("account-list"), {"owner": newcomer.pk})
        assert f'<option value="{newcomer.pk}" selected>Nia Newcomer</option>' in response.content.decode()
        # Each reader's list is their own: another manager is not offered the north's members.
        client.force_login(world.other_manager)
        assert f'<option value="{newcomer.pk}"' not in client.get(reverse("account-list")).content.decode()


def test_filtering_by_an_offered_owner(client, world):
    client.force_login(world.other_manager)
    response = client.get(reverse("account-list"), {"owner": world.other_rep.pk})
    assert {row.record.pk for row in response.context["table"].paginated_rows} == {world.south_account.pk}
    assert f'<option value="{world.other_rep.pk}" selected>' in response.content.decode()


def test_pagination_and_query_count(client, world, django_assert_max_num_queries):
    for i in range(120):
        AccountFactory(name=f"Bulk {i:03d}", territory=world.north, owner=world.north_rep)
    client.force_login(world.manager)
    # Page 2 of accounts not scored yet: past the scored part, the scored accounts are counted to know where the
    # others start (one query more than a page of scored accounts).
    with django_assert_max_num_queries(14):  # 13, and the surging topic pick list
        response = client.get(reverse("account-list"), {"page": 2})
    assert len(response.context["table"].paginated_rows) == 50
    assert response.context["table"].paginator.count == 123


def test_empty_state(client, world):
    client.force_login(world.rep)
    response = client.get(reverse("account-list"), {"q": "no such thing"})
    assert "No accounts match" in response.content.decode()


@pytest.mark.parametrize("name", USERS)
def test_detail_is_404_outside_the_scope(client, world, name):
    client.force_login(getattr(world, name))
    visible = world.accounts_visible_to(name)
    for attr in ALL:
        account = getattr(world, attr)
        response = client.get(reverse("account-detail", args=[account.pk]))
        assert response.status_code == (200 if account.pk in visible else 404)


def test_detail_shows_the_accounts_data(client, world):
    account = world.north_account
    ContactFactory(account=account, name="Ann Champion", persona="champion")
    SignalFactory(account=account, kind="meeting", topic="pricing")
    OpportunityFactory(account=account, external_id="OPP-42", product="GTX Pro", stage="Won")
    child = AccountFactory(name="Child Co", parent=account, territory=world.north)
    client.force_login(world.north_rep)
    page = client.get(reverse("account-detail", args=[account.pk])).content.decode()
    for text in ("Ann Champion", "Champion", "Meeting", "pricing", "OPP-42", "GTX Pro", "Child Co", "North"):
        assert text in page
    assert reverse("account-detail", args=[child.pk]) in page


def test_detail_does_not_leak_invisible_subsidiaries(client, world):
    AccountFactory(name="Hidden Child", parent=world.north_account, territory=world.south)
    client.force_login(world.north_rep)
    assert "Hidden Child" not in client.get(reverse("account-detail", args=[world.north_account.pk])).content.decode()


def test_anonymous_and_outsider(client, world):
    for url in (
        reverse("account-list"),
        reverse("account-export"),
        reverse("account-detail", args=[world.north_account.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    client.force_login(world.outsider)
    for url in (
        reverse("account-list"),
        reverse("account-export"),
        reverse("account-detail", args=[world.north_account.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert "North account" not in response.content.decode()
        assert "You have no role yet" in response.content.decode()


def test_export_defuses_spreadsheet_formulas(client, world):
    AccountFactory(name='=HYPERLINK("http://evil.example")', territory=world.north)
    client.force_login(world.manager)
    body = b"".join(client.get(reverse("account-export")).streaming_content).decode()
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body


def detail_page(client, account) -> str:
    response = client.get(reverse("account-detail", args=[account.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_detail_shows_the_play_of_the_accounts_tier(client, world):
    AccountScoreFactory(account=world.north_account, tier="tier_1")
    client.force_login(world.north_rep)
    page = detail_page(client, world.north_account)
    play = Play.objects.get(tier="tier_1")
    assert 'id="play"' in page and "Play for Tier 1" in page
    for text in (play.name, play.get_motion_display(), play.owner_role, play.primary_kpi):
        assert escape(text) in page
    assert escape(Play.objects.get(tier="tier_2").name) not in page
    # An edited play shows at once.
    Play.objects.filter(tier="tier_1").update(name="Executive programme", owner_role="Strategic AE")
    page = detail_page(client, world.north_account)
    assert "Executive programme" in page and "Strategic AE" in page


def test_detail_without_a_score_shows_no_play_and_empty_histories(client, world):
    client.force_login(world.north_rep)
    page = detail_page(client, world.north_account)
    assert "The play follows the tier, once the account is scored." in page
    assert "No tier moves yet: the account is not scored." in page
    assert "Not qualified as an MQA yet." in page


def test_detail_shows_the_tier_moves_newest_first_with_their_reasons(client, world):
    account = world.north_account
    now = timezone.now()
    AccountScoreFactory(account=account, tier="tier_1")
    moves = [
        ("recycle", "tier_3", "Tier 3: unified 36.5 >= 35 and fit 41 >= 30.", 36.5, 41.0, 30),
        ("tier_3", "tier_2", "Tier 2: unified 57.2 >= 55 and fit 62 >= 50.", 57.2, 62.0, 10),
        ("tier_2", "tier_1", "Surge: signal rose by 24 in 7 days; Tier 1 (one above Tier 2).", 66.8, 72.0, 1),
    ]
    for from_tier, to_tier, reason, unified, fit, days in moves:
        TierChangeFactory(
            account=account, from_tier=from_tier, to_tier=to_tier, reason=reason, unified=unified, fit=fit,
            at=now - dt.timedelta(days=days),
        )  # fmt: skip
    TierChangeFactory(account=world.south_account, reason="A move of an account in the South.")
    client.force_login(world.north_rep)
    page = detail_page(client, account)
    timeline = page[page.index('id="tier-changes"') :]
    positions = [timeline.index(escape(reason)) for _, _, reason, *_ in reversed(moves)]
    assert positions == sorted(positions)  # newest first
    for text in ("Recycle → Tier 3", "Tier 3 → Tier 2", "Tier 2 → Tier 1", "36.5", "57.2", "66.8", "72.0"):
        assert text in timeline
    assert (now - dt.timedelta(days=10)).strftime("%Y-%m-%d") in timeline
    assert "A move of an account in the South." not in page
    assert "No tier moves yet" not in page


def test_detail_says_when_the_account_never_moved(client, world):
    since = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    AccountScoreFactory(account=world.north_account, tier="tier_2", tier_since=since)
    client.force_login(world.north_rep)
    assert "No tier moves yet; placed in Tier 2 since 2025-03-01." in detail_page(client, world.north_account)


def test_detail_shows_the_latest_fifty_moves_and_says_there_are_more(client, world):
    account = world.north_account
    now = timezone.now()
    AccountScoreFactory(account=account)
    for i in range(55):
        TierChangeFactory(account=account, reason=f"Move {i:02d}.", at=now - dt.timedelta(hours=i))
    client.force_login(world.north_rep)
    page = detail_page(client, account)
    assert "The latest 50 moves are shown." in page
    assert "Move 00." in page and "Move 49." in page
    assert "Move 50." not in page and "Move 54." not in page


def test_detail_lists_the_accounts_mqas(client, world):
    account = world.north_account
    now = timezone.now()
    AccountScoreFactory(account=account, tier="tier_1")
    MQAFactory(
        account=account, tier="tier_2", status="rejected", unified=58.3, fit=61.0, signal=44.4, coverage=0.25,
        qualified_at=now - dt.timedelta(days=60), decided_at=now - dt.timedelta(days=59),
    )  # fmt: skip
    MQAFactory(
        account=account, tier="tier_1", status="open", unified=78.2, fit=71.0, signal=64.5, coverage=0.75,
        qualified_at=now - dt.timedelta(days=2),
    )  # fmt: skip
    MQAFactory(account=world.south_account, unified=99.9)
    client.force_login(world.north_rep)
    page = detail_page(client, account)
    mqas = page[page.index('id="mqas"') :]
    assert mqas.index("78.2") < mqas.index("58.3")  # newest first
    for text in ("Open", "Rejected", "75%", "25%", "64.5", "44.4", (now - dt.timedelta(days=2)).strftime("%Y-%m-%d")):
        assert text in mqas
    assert "99.9" not in page
    assert "Not qualified as an MQA yet." not in page


@pytest.mark.parametrize(
    ("flags", "shown", "hidden"),
    [
        (["surge"], ["Surge until 2030-04-15"], ["Held in tier", "capacity full"]),
        (["capacity"], ["Held at Tier 2: territory Tier 1 capacity full"], ["Surge", "Held in tier"]),
        (["hysteresis"], ["Held in tier", "exit thresholds"], ["Surge", "capacity full"]),
        (["min_days"], ["Held in tier", "minimum time"], ["Surge", "capacity full"]),
        (["surge", "min_days"], ["Surge until 2030-04-15", "Held in tier"], ["capacity full"]),
        ([], [], ["Surge until", "Held in tier", "capacity full"]),
    ],
)
def test_detail_shows_why_the_tier_is_held(client, world, flags, shown, hidden):
    AccountScoreFactory(
        account=world.north_account,
        tier="tier_2",
        flags=flags,
        surge_until=dt.datetime(2030, 4, 15, 9, 0, tzinfo=dt.UTC) if "surge" in flags else None,
    )
    client.force_login(world.north_rep)
    page = detail_page(client, world.north_account)
    for text in shown:
        assert text in page
    for text in hidden:
        assert text not in page
    assert page.count("Held in tier") <= 1


def test_detail_query_count_does_not_grow_with_the_history(client, world, django_assert_max_num_queries):
    account = world.north_account
    AccountScoreFactory(account=account, tier="tier_1", flags=["surge"], surge_until=timezone.now())
    TierChangeFactory(account=account)
    MQAFactory(account=account, status="closed")
    client.force_login(world.north_rep)
    detail_page(client, account)  # the first request fills the per-process caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            detail_page(client, account)
        return len(captured.captured_queries)

    with_one = queries()
    assert with_one <= 22  # the page's budget (its topics, lookalike and group one query each), whatever its history
    TierChangeFactory.create_batch(29, account=account)
    MQAFactory.create_batch(29, account=account, status="closed")
    with django_assert_max_num_queries(with_one):
        page = detail_page(client, account)
    assert page.count("Tier 3 → Tier 2") == 30
    assert queries() == with_one


def test_list_cells_read_as_the_columns_render_them(rf, world):
    """The list's rows are made in one pass (AccountTable.page_cells); each cell reads exactly as django-tables2's
    generic rendering of the same column would: tiers by label, money in whole dollars, owners by name, a dash when
    there is nothing."""
    from django_tables2 import RequestConfig

    from accounts.selectors import account_list
    from accounts.tables import AccountTable
    from insights.models import AccountPotential

    world.rep.first_name, world.rep.last_name = "Rita", "Rep"
    world.rep.save()
    world.owned_by_rep.annual_revenue, world.owned_by_rep.employee_count = 1_234_567.8, 12_500
    world.owned_by_rep.industry = ""
    world.owned_by_rep.save()
    AccountScoreFactory(account=world.owned_by_rep, unified=72.5, tier="tier_2")
    AccountScoreFactory(account=world.north_account, unified=90.0, tier="tier_1")
    AccountPotential.objects.create(
        account=world.north_account, win_probability=0.3, deal_size=10_000.0, expected_value=3_456.7, band="80-100",
        computed_at=timezone.now(),
    )  # fmt: skip
    AccountFactory(name="Bare & <Sons>", industry="", country="", employee_count=None, annual_revenue=None)
    for sort in ("name", "unified", "-expected_value", "tier", "-owner", "employee_count"):
        request = rf.get("/accounts/", {"sort": sort})
        request.user = world.admin
        rows = account_list(user=world.admin).select_related("owner", "territory", "score", "potential")
        table = AccountTable(rows)
        RequestConfig(request, paginate={"per_page": 50}).configure(table)
        made = table.page_cells()
        generic = [[cell for _, cell in row.items()] for row in table.paginated_rows]
        assert len(made) == len(generic) > 0
        for (url, cells), expected in zip(made, generic, strict=True):
            texts = [str(text) for _, text in cells]
            assert texts[1:] == [str(cell) for cell in expected[1:]]
            assert f'<a href="{url}">{escape(texts[0])}</a>' == str(expected[0])  # the name, linked to its page
    html = table.as_html(request)
    # Money as a revenue team says it, head counts with separators.
    assert "Rita Rep" in html and "$1.2M" in html and "$3.5K" in html and "12,500" in html and "Tier 2" in html
    assert "Bare &amp; &lt;Sons&gt;" in html


# --- The account page: the score first; the latest opportunities, with a link to all of them ---------------------


def test_the_score_card_comes_first(client, world):
    AccountScoreFactory(account=world.north_account, tier="tier_1", unified=81.5)
    client.force_login(world.north_rep)
    page = detail_page(client, world.north_account)
    cards = [page.index(f'id="{card}"') for card in ("score", "ownership", "play", "company", "potential")]
    assert cards == sorted(cards)  # the score, then who works it and the play, then the company and its potential
    assert page.index('id="score"') < page.index('<dt class="col-5">Domain</dt>')


def test_the_page_shows_the_latest_ten_opportunities_and_links_to_all(client, world):
    account = world.north_account
    for i in range(12):
        OpportunityFactory(account=account, external_id=f"OPP-{i:02d}", closed_on=dt.date(2025, 1, 1 + i),
                           amount=1_500_000)  # fmt: skip
    client.force_login(world.north_rep)
    page = detail_page(client, account)
    assert "Opportunities (12)" in page
    shown = page[page.index('id="opportunities"') :]
    assert "OPP-11" in shown and "OPP-02" in shown  # the latest ten, newest first
    assert "OPP-01" not in shown and "OPP-00" not in shown
    assert shown.index("OPP-11") < shown.index("OPP-02")
    assert "$1.5M" in shown
    url = reverse("account-opportunities", args=[account.pk])
    assert f'<a href="{url}">All 12 opportunities</a>' in page


def test_a_few_opportunities_need_no_link(client, world):
    OpportunityFactory(account=world.north_account, external_id="OPP-ONLY")
    client.force_login(world.north_rep)
    page = detail_page(client, world.north_account)
    assert "OPP-ONLY" in page and "All 1 opportunities" not in page and 'id="opportunities-more"' not in page


def test_the_opportunities_page_lists_them_all_a_page_at_a_time(client, world, monkeypatch):
    from accounts import views

    monkeypatch.setattr(views, "OPPORTUNITY_PAGE_SIZE", 5)
    account = world.north_account
    for i in range(12):
        OpportunityFactory(account=account, external_id=f"OPP-{i:02d}", closed_on=dt.date(2025, 1, 1 + i))
    OpportunityFactory(account=world.south_account, external_id="OPP-SOUTH")
    client.force_login(world.north_rep)
    url = reverse("account-opportunities", args=[account.pk])
    pages = [client.get(url, {"page": n}).content.decode() for n in (1, 2, 3)]
    found = [re.findall(r"<td>(OPP-\d\d)</td>", html) for html in pages]
    assert found == [[f"OPP-{i:02d}" for i in range(11, 6, -1)], [f"OPP-{i:02d}" for i in range(6, 1, -1)],
                     ["OPP-01", "OPP-00"]]  # fmt: skip
    assert "page 1 of 3" in pages[0] and "OPP-SOUTH" not in "".join(pages)
    assert "(12)" in pages[0]


@pytest.mark.parametrize("name", ["other_rep", "other_manager", "sub_rep"])
def test_the_opportunities_page_is_not_found_outside_the_scope(client, world, name):
    OpportunityFactory(account=world.north_account, external_id="OPP-SECRET")
    client.force_login(getattr(world, name))
    response = client.get(reverse("account-opportunities", args=[world.north_account.pk]))
    assert response.status_code == 404 and b"OPP-SECRET" not in response.content


def test_the_account_page_counts_its_histories_only_when_they_overflow_and_asks_the_readers_territories_once(
    client, world
):
    from accounts.views import DETAIL_OPPORTUNITIES, DETAIL_ROWS

    account = world.north_account
    AccountScoreFactory(account=account, tier="tier_1")
    for i in range(DETAIL_OPPORTUNITIES):  # as many as the page shows: no link, no count
        OpportunityFactory(account=account, external_id=f"OPP-{i:02d}", closed_on=dt.date(2025, 1, 1 + i))
    SignalFactory.create_batch(3, account=account)
    client.force_login(world.manager)  # a manager: the page asks who may reassign the account, as coverage does
    detail_page(client, account)
    with CaptureQueriesContext(connection) as captured:
        page = detail_page(client, account)
    sql = [q["sql"] for q in captured.captured_queries]
    assert f"Opportunities ({DETAIL_OPPORTUNITIES})" in page and 'id="opportunities-more"' not in page
    assert "Signals (3)" in page
    assert not [q for q in sql if "COUNT(" in q and ("accounts_signal" in q or "accounts_opportunity" in q)]
    managed = [q for q in sql if "territories_membership" in q and "'manager'" in q and "territory_id" in q]
    assert len(managed) == 1, managed  # coverage and the reassign form share the answer
    # One more of each: the page shows the latest and counts them all.
    OpportunityFactory(account=account, external_id="OPP-LAST", closed_on=dt.date(2025, 2, 1))
    SignalFactory.create_batch(DETAIL_ROWS - 2, account=account)
    page = detail_page(client, account)
    assert f"Opportunities ({DETAIL_OPPORTUNITIES + 1})" in page and 'id="opportunities-more"' in page
    assert f"Signals ({DETAIL_ROWS + 1})" in page and f"The latest {DETAIL_ROWS} are shown." in page


def test_the_account_page_reads_its_score_potential_and_lookalike_with_the_account_and_subsidiaries_only_if_any(
    client, world
):
    from insights.models import AccountPotential
    from segmentation.models import Lookalike

    account = world.north_account
    AccountScoreFactory(account=account, tier="tier_1", unified=81.5, fit=90, signal=70)
    AccountPotential.objects.create(
        account=account, win_probability=0.25, deal_size=40_000, expected_value=10_000, band="80-100",
        computed_at=timezone.now(),
    )  # fmt: skip
    won = AccountFactory(name="Won Lookalike Co", territory=world.north)
    Lookalike.objects.create(
        account=account, score=64.0, neighbours=[[won.pk, won.name, 2025]], traits=["Software"],
        computed_at=timezone.now(),
    )  # fmt: skip
    client.force_login(world.manager)
    detail_page(client, account)
    with CaptureQueriesContext(connection) as captured:
        page = detail_page(client, account)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    # What the user sees of each: the score, the spend potential and the lookalike reasons.
    assert "81.5" in text and "$10,000 expected value" in text
    assert "Lookalike score 64.0 / 100" in text and "Like Won Lookalike Co (won 2025), sharing: Software." in text
    # Each read with the account, in its one query: none asked apart.
    sql = [q["sql"] for q in captured.captured_queries]
    for table in ("segmentation_accountscore", "segmentation_accountpotential", "segmentation_lookalike"):
        reading = [q for q in sql if f'FROM "{table}"' in q]
        assert not reading, reading
    assert len([q for q in sql if 'FROM "accounts_account"' in q and "segmentation_lookalike" in q]) == 1
    # The manager's territories: the hierarchy and which of it they manage, in one query.
    hierarchy = [q for q in sql if 'FROM "territories_territory"' in q]
    assert len(hierarchy) == 1 and 'FROM "territories_membership"' in hierarchy[0], hierarchy
    assert not [q for q in sql if q.startswith('SELECT "territories_membership"."territory_id"')]
    # No subsidiaries: whether it has any is read with the account (an EXISTS in its one query); no count or list of
    # them is asked, and none is shown.
    children = [q for q in sql if '"accounts_account"."parent_id" =' in q]
    assert children == [], children
    assert len([q for q in sql if 'FROM "accounts_account"' in q and "EXISTS" in q and "parent_id" in q]) == 1
    assert "Subsidiaries" not in text
    # With subsidiaries, those the reader may see are listed, and only those.
    AccountFactory(name="North Subsidiary", territory=world.north, parent=account)
    AccountFactory(name="South Subsidiary", territory=world.south, parent=account)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", detail_page(client, account)))
    assert "Subsidiaries North Subsidiary " in text and "South Subsidiary" not in text
