"""Public holidays and closed dates in SLA clocks: a business-hours clock does not run on them (due times,
business hours between two moments, the countdown and the sweep), a 24x7 clock ignores them, and the policy page
and /api/v1/sla-policies/ show and edit them, refusing an unknown region or a bad date in words."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from handoffs import services as handoffs
from handoffs.models import Handoff, SlaPolicy
from handoffs.selectors import handoff_countdown, sla_clocks
from handoffs.services import sla_sweep
from handoffs.sla import business_hours_between, countdown, describe, due_at
from handoffs.sla_calendars import holiday_dates, parse_closed_dates, policy_clock
from tests.factories import MQAFactory

NEW_YORK, LONDON, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Europe/Berlin")


def at(zone: ZoneInfo, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def office(hours=8, *, zone="UTC", country="", subdivision="", closed=(), calendar="business_hours"):
    """A policy as the clock reads it (no database): Mon–Fri 09–17 in `zone`."""
    policy = SimpleNamespace(
        accept_within_hours=hours,
        calendar=calendar,
        time_zone=zone,
        working_days=[0, 1, 2, 3, 4],
        start_hour=9,
        end_hour=17,
        holiday_country=country,
        holiday_subdivision=subdivision,
        closed_dates=list(closed),
    )
    return policy


def due(policy, start: dt.datetime) -> dt.datetime:
    return due_at(policy_clock(policy, around=start), start)


# --- The clock ------------------------------------------------------------------------------------------------


def test_us_christmas_is_no_working_day():
    start = at(NEW_YORK, 2026, 12, 24, 16)  # Thursday: 1 hour today, Friday 25 is Christmas Day
    assert due(office(zone="America/New_York"), start) == at(NEW_YORK, 2026, 12, 25, 16)  # without holidays
    assert due(office(zone="America/New_York", country="US"), start) == at(NEW_YORK, 2026, 12, 28, 16)


def test_gb_christmas_boxing_day_and_its_substitute_monday():
    # 2026: Christmas on Friday, Boxing Day on Saturday, so Monday 28 is the Boxing Day bank holiday.
    start = at(LONDON, 2026, 12, 24, 16)
    assert due(office(zone="Europe/London", country="GB"), start) == at(LONDON, 2026, 12, 29, 16)
    # 2027: both fall on the weekend, so Monday 27 and Tuesday 28 are the bank holidays.
    start = at(LONDON, 2027, 12, 24, 16)
    assert due(office(zone="Europe/London", country="GB"), start) == at(LONDON, 2027, 12, 29, 16)
    assert due(office(zone="Europe/London"), start) == at(LONDON, 2027, 12, 27, 16)


def test_us_independence_day_is_observed_on_friday_3_july_2026():
    assert dt.date(2026, 7, 3) in holiday_dates("US", "", 2026, 2026)
    start = at(NEW_YORK, 2026, 7, 2, 16)  # Thursday
    assert due(office(2, zone="America/New_York", country="US"), start) == at(NEW_YORK, 2026, 7, 6, 10)
    assert due(office(2, zone="America/New_York"), start) == at(NEW_YORK, 2026, 7, 3, 10)


def test_a_subdivision_adds_its_own_holidays():
    # Reformation Day (31 Oct 2025, a Friday) is a holiday in Brandenburg, not in Berlin.
    start = at(BERLIN, 2025, 10, 30, 16)
    assert due(office(2, zone="Europe/Berlin", country="DE", subdivision="BB"), start) == at(BERLIN, 2025, 11, 3, 10)
    assert due(office(2, zone="Europe/Berlin", country="DE", subdivision="BE"), start) == at(BERLIN, 2025, 10, 31, 10)


def test_a_business_hours_clock_spans_the_berlin_autumn_change_and_a_closed_date():
    # Friday 23 Oct 2026 closed; clocks go back on Sunday 25: Monday's 09:00 is 08:00 UTC, not 07:00.
    policy = office(2, zone="Europe/Berlin", country="DE", subdivision="BE", closed=["2026-10-23"])
    start = at(BERLIN, 2026, 10, 22, 16)  # 14:00 UTC
    assert due(policy, start) == utc(2026, 10, 26, 9)
    clock = policy_clock(policy, around=start)
    assert business_hours_between(clock, start, utc(2026, 10, 26, 9)) == 2
    assert business_hours_between(clock, utc(2026, 10, 23, 7), utc(2026, 10, 23, 15)) == 0  # the closed Friday


def test_a_london_clock_spans_the_spring_change_good_friday_and_easter_monday():
    # 16:00 GMT on Friday 27 Mar 2026; BST from Sunday 29; Good Friday 3 Apr and Easter Monday 6 Apr are closed.
    start = at(LONDON, 2026, 3, 27, 16)
    got = due(office(40, zone="Europe/London", country="GB", subdivision="ENG"), start)
    assert got == at(LONDON, 2026, 4, 7, 16) == utc(2026, 4, 7, 15)


def test_own_closed_dates_are_no_working_days():
    policy = office(4, zone="UTC", closed=["2026-12-24", "2026-12-31"])
    assert due(policy, utc(2026, 12, 23, 15)) == utc(2026, 12, 25, 11)  # Thursday 24 skipped
    assert due(office(4, zone="UTC"), utc(2026, 12, 23, 15)) == utc(2026, 12, 24, 11)


def test_business_hours_between_skip_holidays_and_stay_antisymmetric():
    clock = policy_clock(office(zone="America/New_York", country="US"), around=utc(2026, 12, 1))
    start, end = at(NEW_YORK, 2026, 12, 24, 16), at(NEW_YORK, 2026, 12, 28, 16)
    assert business_hours_between(clock, start, end) == 8
    assert business_hours_between(clock, end, start) == -8
    plain = policy_clock(office(zone="America/New_York"), around=utc(2026, 12, 1))
    assert business_hours_between(plain, start, end) == 16


def test_a_24x7_clock_counts_holidays():
    policy = office(24, zone="America/New_York", country="US", closed=["2026-12-24"], calendar="24x7")
    start = at(NEW_YORK, 2026, 12, 24, 16)
    assert due(policy, start) == start + dt.timedelta(hours=24)
    assert describe(policy_clock(policy)) == "24 hours, 24x7"


def test_the_countdown_skips_the_holiday_and_gives_the_page_no_window_on_it():
    clock = policy_clock(office(zone="America/New_York", country="US"), around=utc(2026, 12, 1))
    now = at(NEW_YORK, 2026, 12, 24, 16, 30)
    shown = countdown(clock, at(NEW_YORK, 2026, 12, 28, 16), now)
    assert shown.text == "8 business hours left · due Mon 16:00"  # 7.5 hours, rounded half up
    assert shown.left_ms == 7.5 * 3_600_000
    # The page's script ticks only in Thursday's last half hour over the next two days: Friday is Christmas.
    assert shown.windows == ((0, 30 * 60_000),)


def test_the_clock_in_words_names_the_holidays_and_closed_dates():
    policy = office(zone="Europe/Berlin", country="DE", subdivision="BE", closed=["2026-12-24", "2026-12-31"])
    assert describe(policy_clock(policy)) == (
        "8 business hours (Mon–Fri 09:00–17:00 Europe/Berlin, except public holidays in Germany (Berlin) "
        "and 2 closed dates)"
    )
    assert describe(policy_clock(office(zone="Europe/London", country="GB"))) == (
        "8 business hours (Mon–Fri 09:00–17:00 Europe/London, except public holidays in United Kingdom)"
    )
    assert describe(policy_clock(office(closed=["2026-12-24"]))) == (
        "8 business hours (Mon–Fri 09:00–17:00 UTC, except 1 closed date)"
    )


def test_holidays_cover_the_years_a_long_count_runs_into():
    # 720 hours of one hour a week run for about 14 years: the holidays reach that far.
    policy = office(720, zone="America/New_York", country="US")
    policy.working_days, policy.start_hour, policy.end_hour = [4], 9, 10
    clock = policy_clock(policy, around=utc(2026, 1, 5))
    assert dt.date(2039, 12, 26) in clock.holidays  # Christmas 2039 falls on a Sunday: observed Monday


def test_closed_dates_are_read_one_a_line_and_bad_lines_named():
    assert parse_closed_dates("2026-12-31\n\n 2026-12-24 \n2026-12-24, 2027-01-02") == (
        ["2026-12-24", "2026-12-31", "2027-01-02"],
        [],
    )
    dates, errors = parse_closed_dates("2026-12-24\n24/12/2026\n2026-02-30\n1850-01-01")
    assert dates == ["2026-12-24"]
    assert errors == [
        "Line 2: “24/12/2026” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24.",
        "Line 3: “2026-02-30” is not a date in the calendar.",
        "Line 4: 1850-01-01 is outside the years 2000–2100.",
    ]


# --- The handoffs and the sweep --------------------------------------------------------------------------------


def us_policy(**extra):
    SlaPolicy.objects.filter(tier="tier_1").update(
        accept_within_hours=8,
        calendar="business_hours",
        time_zone="America/New_York",
        working_days=[0, 1, 2, 3, 4],
        start_hour=9,
        end_hour=17,
        holiday_country="US",
        **extra,
    )


@pytest.mark.django_db
def test_a_handoff_made_before_christmas_is_due_after_it_and_the_sweep_waits(world):
    us_policy()
    made = at(NEW_YORK, 2026, 12, 24, 16)
    mqa = MQAFactory(account=world.north_account, tier="tier_1")
    handoffs.handoffs_create([mqa.pk], now=made)
    handoff = Handoff.objects.get(mqa=mqa)
    assert handoff.accept_due_at == at(NEW_YORK, 2026, 12, 28, 16)
    # Without the holiday it would have been due on Friday 25 at 16:00: no breach then, nor just before Monday's.
    # (The sweep is given UTC moments, as the periodic task gives it.)
    assert sla_sweep(now=at(NEW_YORK, 2026, 12, 25, 17).astimezone(dt.UTC)).breached == 0
    assert sla_sweep(now=at(NEW_YORK, 2026, 12, 28, 15, 59).astimezone(dt.UTC)).breached == 0
    handoff.refresh_from_db()
    assert handoff.breached_at is None
    late = at(NEW_YORK, 2026, 12, 28, 16, 1).astimezone(dt.UTC)
    assert sla_sweep(now=late).breached == 1
    handoff.refresh_from_db()
    assert handoff.breached_at == late
    shown = handoff_countdown(handoff, sla_clocks(now=made), now=at(NEW_YORK, 2026, 12, 24, 16, 30))
    assert shown.text == "8 business hours left · due Mon 16:00"


@pytest.mark.django_db
def test_the_handoff_page_shows_the_holiday_adjusted_due_time_and_the_clock(client, world):
    us_policy(closed_dates=["2026-12-31"])
    mqa = MQAFactory(account=world.north_account, tier="tier_1")
    handoffs.handoffs_create([mqa.pk], now=at(NEW_YORK, 2026, 12, 24, 16))
    handoff = Handoff.objects.get(mqa=mqa)
    client.force_login(world.admin)
    page = client.get(reverse("handoff-detail", args=[handoff.pk])).content.decode()
    assert "except public holidays in United States and 1 closed date" in page
    assert "28 December 2026, 16:00 America/New_York" in page


# --- The policy pages ------------------------------------------------------------------------------------------


def form_data(policy: SlaPolicy, **changes) -> dict:
    data = {
        "accept_within_hours": policy.accept_within_hours,
        "calendar": policy.calendar,
        "time_zone": policy.time_zone,
        "working_days": [str(d) for d in policy.working_days],
        "start_hour": policy.start_hour,
        "end_hour": policy.end_hour,
        "breach_action": policy.breach_action,
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_an_admin_names_a_region_and_closed_dates_on_the_policy_page(client, world):
    client.force_login(world.admin)
    url = reverse("sla-policy-edit", args=["tier_1"])
    policy = SlaPolicy.objects.get(tier="tier_1")
    response = client.post(
        url,
        form_data(
            policy,
            accept_within_hours=8,
            time_zone="Europe/Berlin",
            holiday_country="germany",
            holiday_subdivision="berlin",
            closed_dates="2026-12-31\n2026-12-24\n",
        ),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.holiday_country, policy.holiday_subdivision, policy.closed_dates) == (
        "DE",
        "BE",
        ["2026-12-24", "2026-12-31"],
    )
    listed = client.get(response["Location"]).content.decode()
    assert (
        "accept within 8 business hours (Mon–Fri 09:00–17:00 Europe/Berlin, except public holidays in "
        "Germany (Berlin) and 2 closed dates)" in listed
    )
    assert "Public holidays in Germany (Berlin) and 2 closed dates" in listed  # the list's column
    form = client.get(url).content.decode()
    assert 'value="DE"' in form and 'value="BE"' in form
    assert "2026-12-24\n2026-12-31</textarea>" in form
    assert '<option value="BE">Berlin</option>' in form  # the subdivisions of the country chosen


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"holiday_country": "Atlantis"},
            "holiday_country",
            "Unknown country “Atlantis”: give a two-letter ISO code such as DE, GB or US",
        ),
        ({"holiday_country": "DE", "holiday_subdivision": "Narnia"}, "holiday_subdivision", "BE (Berlin)"),
        (
            {"holiday_country": "DE", "holiday_subdivision": "Narnia"},
            "holiday_subdivision",
            "Germany has no subdivision “Narnia”: choose one of",
        ),
        ({"holiday_subdivision": "BE"}, "holiday_subdivision", "Name the country first"),
        (
            {"closed_dates": "2026-12-24\n2026-13-01"},
            "closed_dates",
            "Line 2: “2026-13-01” is not a date in the calendar.",
        ),
    ],
)
@pytest.mark.django_db
def test_a_bad_region_or_date_is_refused_beside_its_field_keeping_what_was_typed(
    client, world, changes, field, message
):
    client.force_login(world.admin)
    policy = SlaPolicy.objects.get(tier="tier_1")
    before = (policy.holiday_country, policy.holiday_subdivision, policy.closed_dates, policy.updated_at)
    typed = {"holiday_country": "", "holiday_subdivision": "", "closed_dates": "", **changes}
    response = client.post(reverse("sla-policy-edit", args=["tier_1"]), form_data(policy, **typed))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    page = response.content.decode()
    assert "The policy was not saved" in page
    assert message.replace("“", "&ldquo;")[:20] in page or message[:20] in page
    for value in typed.values():
        for line in value.splitlines():
            assert line in page  # everything typed is still there
    policy.refresh_from_db()
    assert (policy.holiday_country, policy.holiday_subdivision, policy.closed_dates, policy.updated_at) == before


# --- The API ---------------------------------------------------------------------------------------------------


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_the_api_shows_and_edits_the_holidays(world):
    policy = SlaPolicy.objects.get(tier="tier_1")
    url = f"/api/v1/sla-policies/{policy.pk}/"
    response = api_for(world.admin).patch(
        url,
        {"time_zone": "Europe/London", "holiday_country": "gbr", "holiday_subdivision": "England",
         "closed_dates": ["2026-12-31", "2026-12-24"]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    body = api_for(world.manager).get(url).json()
    assert (body["holiday_country"], body["holiday_subdivision"], body["closed_dates"]) == (
        "GB",
        "ENG",
        ["2026-12-24", "2026-12-31"],
    )
    assert body["clock"] == (
        "4 business hours (Mon–Fri 09:00–17:00 Europe/London, except public holidays in United Kingdom (England) "
        "and 2 closed dates)"
    )
    cleared = api_for(world.admin).patch(url, {"holiday_country": "", "closed_dates": []}, format="json")
    assert cleared.status_code == 400  # England without a country
    assert cleared.json() == {"holiday_subdivision": ["Name the country first: a subdivision belongs to a country."]}
    cleared = api_for(world.admin).patch(
        url, {"holiday_country": "", "holiday_subdivision": "", "closed_dates": []}, format="json"
    )
    assert (
        cleared.status_code == 200 and cleared.json()["clock"] == "4 business hours (Mon–Fri 09:00–17:00 Europe/London)"
    )


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_region_or_date_and_changes_nothing(world):
    policy = SlaPolicy.objects.get(tier="tier_1")
    url = f"/api/v1/sla-policies/{policy.pk}/"
    response = api_for(world.admin).patch(
        url, {"holiday_country": "XX", "closed_dates": ["2026-12-24", "tomorrow"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "holiday_country": [
            "Unknown country “XX”: give a two-letter ISO code such as DE, GB or US (the list on the policy page "
            "shows every supported country)."
        ],
        "closed_dates": ["Date 2: “tomorrow” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24."],
    }
    policy.refresh_from_db()
    assert (policy.holiday_country, policy.closed_dates) == ("", [])


@pytest.mark.django_db
def test_managers_may_not_change_the_holidays(client, world):
    policy = SlaPolicy.objects.get(tier="tier_1")
    response = api_for(world.manager).patch(
        f"/api/v1/sla-policies/{policy.pk}/", {"holiday_country": "US"}, format="json"
    )
    assert response.status_code == 403
    client.force_login(world.manager)
    page = client.post(reverse("sla-policy-edit", args=["tier_1"]), form_data(policy, holiday_country="US"))
    assert page.status_code == 403
    policy.refresh_from_db()
    assert policy.holiday_country == ""
