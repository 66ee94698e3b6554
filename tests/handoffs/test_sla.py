"""handoffs.sla: due times and elapsed hours on 24x7 and business-hours clocks, across weekends and DST."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handoffs.sla import (
    Clock,
    business_hours_between,
    clock_of,
    clock_problems,
    countdown,
    days_label,
    describe,
    due_at,
    duration_words,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


def office(hours: float, **kwargs) -> Clock:
    """Monday to Friday, 09-17, UTC unless told otherwise."""
    return Clock(hours=hours, calendar="business_hours", **kwargs)


# 2026-03-27 and 2026-10-23 are the Fridays before the last Sundays of March and October (EU changes);
# 2026-03-06 and 2026-10-30 the Fridays before the US changes (8 March, 1 November).
FRIDAY = utc(2026, 6, 12, 16)


def test_the_dates_used_here_are_what_the_tests_say():
    assert FRIDAY.weekday() == 4
    assert [d.weekday() for d in (dt.date(2026, 3, 27), dt.date(2026, 10, 23), dt.date(2026, 3, 6))] == [4, 4, 4]
    assert dt.date(2026, 10, 30).weekday() == 4
    assert utc(2026, 3, 27, 12).astimezone(BERLIN).utcoffset() == dt.timedelta(hours=1)
    assert utc(2026, 3, 30, 12).astimezone(BERLIN).utcoffset() == dt.timedelta(hours=2)
    assert utc(2026, 3, 6, 12).astimezone(NEW_YORK).utcoffset() == dt.timedelta(hours=-5)
    assert utc(2026, 3, 9, 12).astimezone(NEW_YORK).utcoffset() == dt.timedelta(hours=-4)


# --- Business hours in UTC ------------------------------------------------------------------------------------


def test_friday_afternoon_plus_four_business_hours_is_monday_noon():
    assert due_at(office(4), FRIDAY) == utc(2026, 6, 15, 12)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (utc(2026, 6, 13, 10), 2, utc(2026, 6, 15, 11)),  # Saturday: the clock starts on Monday at 09:00
        (utc(2026, 6, 14, 23, 59), 1, utc(2026, 6, 15, 10)),  # Sunday night
        (utc(2026, 6, 16, 7, 30), 2, utc(2026, 6, 16, 11)),  # Tuesday before 09:00
        (utc(2026, 6, 16, 18), 1, utc(2026, 6, 17, 10)),  # Tuesday after 17:00
        (utc(2026, 6, 16, 9), 8, utc(2026, 6, 16, 17)),  # a whole day ends at its own window's end
        (utc(2026, 6, 16, 9), 9, utc(2026, 6, 17, 10)),
        (utc(2026, 6, 16, 10, 15), 24, utc(2026, 6, 19, 10, 15)),  # three working days later
        (utc(2026, 6, 12, 16), 40, utc(2026, 6, 19, 16)),  # a working week
    ],
)
def test_time_outside_the_window_does_not_count(start, hours, due):
    assert due_at(office(hours), start) == due


def test_a_due_time_exactly_at_a_windows_end_stays_there():
    assert due_at(office(1), FRIDAY) == utc(2026, 6, 12, 17)  # not Monday 09:00
    assert due_at(office(0.5), utc(2026, 6, 12, 16, 30)) == utc(2026, 6, 12, 17)


def test_a_start_exactly_at_a_windows_end_begins_at_the_next_window():
    assert due_at(office(1), utc(2026, 6, 12, 17)) == utc(2026, 6, 15, 10)
    assert due_at(office(1), utc(2026, 6, 15, 9)) == utc(2026, 6, 15, 10)


def test_fractions_of_an_hour_count():
    assert due_at(office(1.5), utc(2026, 6, 16, 16)) == utc(2026, 6, 17, 9, 30)


def test_working_days_and_hours_of_day_are_the_clocks():
    weekend = office(3, working_days=(5, 6), start_hour=10, end_hour=12)
    # Friday afternoon: Saturday 10-12, then Sunday 10-11.
    assert due_at(weekend, FRIDAY) == utc(2026, 6, 14, 11)
    until_midnight = office(2, start_hour=20, end_hour=24)
    assert due_at(until_midnight, utc(2026, 6, 16, 23)) == utc(2026, 6, 17, 21)
    assert due_at(until_midnight, utc(2026, 6, 16, 22)) == utc(2026, 6, 17, 0)  # the end of Tuesday's window


def test_any_aware_start_is_read_as_its_instant_and_the_answer_is_utc():
    start = FRIDAY.astimezone(ZoneInfo("Asia/Tokyo"))  # Saturday 01:00 in Tokyo
    due = due_at(office(4), start)
    assert due == utc(2026, 6, 15, 12) and due.tzinfo == UTC


# --- Business hours across daylight-saving changes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "friday", "monday_due_utc", "friday_window_utc", "monday_window_utc"),
    [
        # Europe/Berlin, spring: CET (+1) on Friday, CEST (+2) on Monday.
        (BERLIN, (2026, 3, 27), utc(2026, 3, 30, 10), (8, 16), (7, 15)),
        # Europe/Berlin, autumn: CEST (+2) on Friday, CET (+1) on Monday.
        (BERLIN, (2026, 10, 23), utc(2026, 10, 26, 11), (7, 15), (8, 16)),
        # America/New_York, spring: EST (-5) on Friday, EDT (-4) on Monday.
        (NEW_YORK, (2026, 3, 6), utc(2026, 3, 9, 16), (14, 22), (13, 21)),
        # America/New_York, autumn: EDT (-4) on Friday, EST (-5) on Monday.
        (NEW_YORK, (2026, 10, 30), utc(2026, 11, 2, 17), (13, 21), (14, 22)),
    ],
)
def test_local_hours_stay_nine_to_five_while_the_utc_instants_shift(
    zone, friday, monday_due_utc, friday_window_utc, monday_window_utc
):
    clock = office(4, time_zone=zone.key)
    start = local(zone, *friday, 16)
    due = due_at(clock, start)
    assert due == monday_due_utc
    in_zone = due.astimezone(zone)
    assert (in_zone.weekday(), in_zone.hour, in_zone.minute) == (0, 12, 0)  # Monday 12:00 local, both sides
    # The windows are 09-17 local: their UTC hours differ by the change.
    monday = due.date()
    opens, closes = friday_window_utc
    assert due_at(office(1, time_zone=zone.key), local(zone, *friday, 8)).hour == opens + 1
    assert due_at(office(1, time_zone=zone.key), local(zone, *friday, 16)) == utc(*friday, closes)
    opens, closes = monday_window_utc
    assert due_at(office(8, time_zone=zone.key), utc(monday.year, monday.month, monday.day, 0)) == utc(
        monday.year, monday.month, monday.day, closes
    )
    assert business_hours_between(clock, utc(*friday, 0), utc(monday.year, monday.month, monday.day, 23)) == 16


def test_a_working_day_is_its_local_hours_even_on_the_day_of_a_change():
    sundays = office(8, time_zone="Europe/Berlin", working_days=(6,))
    march, october = dt.date(2026, 3, 29), dt.date(2026, 10, 25)
    assert due_at(sundays, utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 15)  # 17:00 CEST
    assert due_at(sundays, utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 16)  # 17:00 CET
    # A whole-day window has 23 real hours in March and 25 in October.
    whole_day = office(1, time_zone="Europe/Berlin", working_days=(6,), start_hour=0, end_hour=24)
    for day, hours in ((march, 23), (october, 25)):
        start = local(BERLIN, day.year, day.month, day.day)
        end = local(BERLIN, day.year, day.month, day.day + 1)
        assert business_hours_between(whole_day, start - dt.timedelta(hours=5), end + dt.timedelta(hours=5)) == hours


def test_a_window_inside_the_spring_gap_has_no_time():
    # 02:00-03:00 does not exist in Berlin on 29 March 2026: that Sunday's window is empty, the next one counts.
    gap = office(1, time_zone="Europe/Berlin", working_days=(6,), start_hour=2, end_hour=3)
    assert due_at(gap, utc(2026, 3, 28, 12)) == local(BERLIN, 2026, 4, 5, 3).astimezone(UTC)


def test_24x7_across_a_change_is_plain_elapsed_hours():
    for zone in ("Europe/Berlin", "America/New_York", "UTC"):
        always = Clock(hours=72, calendar="24x7", time_zone=zone)
        start = utc(2026, 3, 7, 18)  # covers the US change (8 March)
        assert due_at(always, start) == start + dt.timedelta(hours=72)
        start = utc(2026, 3, 28, 12)  # covers the EU change (29 March)
        assert due_at(always, start) == start + dt.timedelta(hours=72)
        assert business_hours_between(always, start, start + dt.timedelta(hours=72)) == 72


# --- Hours between two moments --------------------------------------------------------------------------------


def test_hours_between_count_only_the_windows():
    clock = office(4)
    assert business_hours_between(clock, FRIDAY, utc(2026, 6, 15, 12)) == 4
    assert business_hours_between(clock, utc(2026, 6, 13, 0), utc(2026, 6, 14, 23)) == 0  # a weekend
    assert business_hours_between(clock, utc(2026, 6, 16, 12), utc(2026, 6, 16, 12, 45)) == 0.75
    assert business_hours_between(clock, utc(2026, 6, 15, 0), utc(2026, 6, 22, 0)) == 40
    assert business_hours_between(clock, FRIDAY, FRIDAY) == 0


def test_hours_between_are_negative_when_the_end_comes_first():
    clock = office(4)
    assert business_hours_between(clock, utc(2026, 6, 15, 12), FRIDAY) == -4
    assert business_hours_between(Clock(hours=1, calendar="24x7"), utc(2026, 6, 2), utc(2026, 6, 1)) == -24


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"]


@st.composite
def clocks(draw) -> Clock:
    start_hour = draw(st.integers(0, 23))
    return Clock(
        hours=draw(st.integers(1, 720)),
        calendar=draw(st.sampled_from(["business_hours", "business_hours", "24x7"])),
        time_zone=draw(st.sampled_from(ZONES)),
        working_days=tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1)))),
        start_hour=start_hour,
        end_hour=draw(st.integers(start_hour + 1, 24)),
    )


starts = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.sampled_from([UTC, BERLIN])
)


@settings(max_examples=300, deadline=None)
@given(clock=clocks(), start=starts)
@example(
    clock=Clock(hours=2, calendar="business_hours", time_zone="Europe/Berlin", working_days=(0, 1, 2, 3, 4, 5, 6),
                start_hour=0, end_hour=2),
    start=dt.datetime(2024, 3, 30, 1, 0, tzinfo=UTC),
)  # fmt: skip
def test_hours_between_a_start_and_its_due_time_are_the_clocks_hours(clock, start):
    due = due_at(clock, start)
    assert due.tzinfo == UTC and due >= start
    assert business_hours_between(clock, start, due) == clock.hours
    if clock.calendar == "business_hours":
        # The due time is the first moment at which the hours have run: a moment earlier, they have not.
        earlier = due - dt.timedelta(seconds=1)
        assert business_hours_between(clock, start, earlier) < clock.hours
        # Its last counted second lies inside a window, on a working day, in local time (read a second before: the
        # due moment itself may be a window's end that a daylight-saving jump skips, 02:00 in Berlin on 31 March).
        there = earlier.astimezone(ZoneInfo(clock.time_zone))
        assert there.weekday() in clock.working_days and clock.start_hour <= there.hour < clock.end_hour


@settings(max_examples=100, deadline=None)
@given(clock=clocks(), start=starts, extra=st.integers(1, 200))
def test_more_hours_are_due_later_and_split_clocks_add_up(clock, start, extra):
    first = due_at(clock, start)
    longer = Clock(**{**clock.__dict__, "hours": clock.hours + extra})
    later = due_at(longer, start)
    assert later > first
    assert later == due_at(Clock(**{**clock.__dict__, "hours": extra}), first)


# --- Inputs -------------------------------------------------------------------------------------------------


def test_due_at_refuses_what_would_never_end_or_is_naive():
    with pytest.raises(ValueError, match="aware"):
        due_at(office(4), dt.datetime(2026, 6, 12, 16))  # noqa: DTZ001
    with pytest.raises(ValueError, match="working day"):
        due_at(office(4, working_days=()), FRIDAY)
    with pytest.raises(ValueError, match="start_hour < end_hour"):
        due_at(office(4, start_hour=17, end_hour=9), FRIDAY)
    with pytest.raises(ValueError, match="calendar"):
        due_at(Clock(hours=4, calendar="lunar"), FRIDAY)


def test_clock_of_reads_a_policy():
    policy = SimpleNamespace(
        accept_within_hours=24,
        calendar="business_hours",
        time_zone="Europe/Berlin",
        working_days=[4, 0, 2, 0],
        start_hour=8,
        end_hour=18,
    )
    assert clock_of(policy) == Clock(24.0, "business_hours", "Europe/Berlin", (0, 2, 4), 8, 18)


def test_clocks_in_words():
    assert describe(office(4, time_zone="Europe/Berlin")) == "4 business hours (Mon–Fri 09:00–17:00 Europe/Berlin)"
    assert describe(Clock(hours=72, calendar="24x7")) == "72 hours, 24x7"
    assert days_label([0, 1, 3, 5, 6]) == "Mon, Tue, Thu, Sat, Sun"
    assert days_label([6, 5, 4, 3, 0]) == "Mon, Thu–Sun"
    assert days_label([]) == "no days"


VALID = {
    "accept_within_hours": 4,
    "calendar": "business_hours",
    "time_zone": "Europe/Berlin",
    "working_days": [0, 1, 2, 3, 4],
    "start_hour": 9,
    "end_hour": 17,
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"accept_within_hours": 0}, "accept_within_hours", "Accept within 1 to 720 hours."),
        ({"accept_within_hours": 721}, "accept_within_hours", "Accept within 1 to 720 hours."),
        ({"accept_within_hours": None}, "accept_within_hours", "Accept within 1 to 720 hours."),
        ({"accept_within_hours": True}, "accept_within_hours", "Accept within 1 to 720 hours."),
        ({"calendar": "lunar"}, "calendar", "Choose 24x7 or business hours."),
        ({"time_zone": ""}, "time_zone", "Give a time zone, e.g. Europe/Berlin."),
        ({"time_zone": "  "}, "time_zone", "Give a time zone, e.g. Europe/Berlin."),
        ({"time_zone": None}, "time_zone", "Give a time zone, e.g. Europe/Berlin."),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "time_zone",
            "Unknown time zone “Mars/Olympus_Mons”: use an IANA name such as Europe/Berlin.",
        ),
        (
            {"time_zone": "../../etc/passwd"},
            "time_zone",
            "Unknown time zone “../../etc/passwd”: use an IANA name such as Europe/Berlin.",
        ),
        (
            {"time_zone": "localtime"},
            "time_zone",
            "Unknown time zone “localtime”: use an IANA name such as Europe/Berlin.",
        ),
        (
            {"time_zone": "europe/berlin"},
            "time_zone",
            "Unknown time zone “europe/berlin”: use an IANA name such as Europe/Berlin.",
        ),
        ({"working_days": []}, "working_days", "Pick at least one working day."),
        ({"working_days": [0, 7]}, "working_days", "Working days are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"working_days": [-1]}, "working_days", "Working days are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"working_days": ["1"]}, "working_days", "Working days are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"working_days": "0,1"}, "working_days", "Working days are numbers from 0 (Monday) to 6 (Sunday)."),
        ({"start_hour": -1}, "start_hour", "The working day starts at an hour from 0 to 23."),
        ({"start_hour": 24, "end_hour": 24}, "start_hour", "The working day starts at an hour from 0 to 23."),
        ({"end_hour": 0, "start_hour": 0}, "end_hour", "The working day ends at an hour from 1 to 24."),
        ({"end_hour": 25}, "end_hour", "The working day ends at an hour from 1 to 24."),
        ({"end_hour": 9}, "end_hour", "The working day must end after it starts."),
        ({"end_hour": 8}, "end_hour", "The working day must end after it starts."),
    ],
)
def test_every_clock_problem_has_its_message(changes, field, message):
    assert clock_problems({**VALID, **changes}) == {field: message}


def test_a_valid_clock_has_no_problems_and_absent_fields_are_not_checked():
    assert clock_problems(VALID) == {}
    assert clock_problems({**VALID, "calendar": "24x7", "start_hour": 0, "end_hour": 24, "working_days": [6]}) == {}
    assert clock_problems({}) == {}
    assert clock_problems({"end_hour": 5}) == {}  # no start to compare with
    assert clock_problems({"time_zone": "America/Argentina/Buenos_Aires", "accept_within_hours": 720}) == {}


# --- The countdown in words -------------------------------------------------------------------------------------

FRIDAY_1108 = utc(2026, 11, 20, 11, 8)


def test_a_countdown_reads_in_the_policys_clock():
    clock = office(8)
    due = due_at(clock, FRIDAY_1108)
    assert due == utc(2026, 11, 23, 11, 8)  # 5 h 52 on Friday, 2 h 08 on Monday
    two_hours_on = countdown(clock, due, FRIDAY_1108 + dt.timedelta(hours=2))
    assert two_hours_on.text == "6 business hours left · due Mon 11:08"
    assert not two_hours_on.overdue and two_hours_on.business
    # The weekend does not count: Saturday noon still has the 2 h 08 of Monday left.
    weekend = countdown(clock, due, utc(2026, 11, 21, 12))
    assert weekend.left == "2 business hours left"
    assert weekend.left_ms == (2 * 60 + 8) * 60_000
    assert weekend.due_in_ms == round((due - utc(2026, 11, 21, 12)).total_seconds() * 1000)
    # Overdue in business hours: Monday 13:08 is two working hours past 11:08.
    late = countdown(clock, due, utc(2026, 11, 23, 13, 8))
    assert (late.text, late.overdue) == ("overdue by 2 business hours · due Mon 11:08", True)


def test_a_24x7_countdown_counts_plain_hours():
    clock = Clock(hours=3, calendar="24x7")
    due = due_at(clock, FRIDAY_1108)
    assert countdown(clock, due, FRIDAY_1108).text == "3 hours left · due Fri 14:08"
    assert countdown(clock, due, due + dt.timedelta(minutes=20)).left == "overdue by 20 minutes"
    assert countdown(clock, due, FRIDAY_1108).windows is None  # it always runs
    far = Clock(hours=720, calendar="24x7")
    assert countdown(far, due_at(far, FRIDAY_1108), FRIDAY_1108).text == "720 hours left · due Sun 20 Dec 11:08"


def test_a_countdown_past_due_outside_working_hours_is_overdue_without_business_time():
    clock = office(4)
    due = utc(2026, 11, 20, 17)  # Friday, the end of the working day
    saturday = countdown(clock, due, utc(2026, 11, 21, 10))
    assert (saturday.left, saturday.overdue, saturday.left_ms) == ("overdue", True, 0)


def test_the_due_time_is_the_policys_local_time_with_utc_in_the_title():
    clock = office(4, time_zone="Europe/Berlin")
    start = utc(2026, 11, 16, 8)  # Monday 09:00 in Berlin (CET, UTC+1)
    due = due_at(clock, start)
    assert due == utc(2026, 11, 16, 12)
    shown = countdown(clock, due, start)
    assert shown.text == "4 business hours left · due Mon 13:00"
    assert shown.title == "Due Monday 16 November 2026, 13:00 Europe/Berlin (12:00 UTC)"


def test_the_windows_a_page_gets_to_tick_are_the_working_hours_of_the_next_two_days():
    clock = office(8)
    friday_4pm = utc(2026, 11, 20, 16)
    shown = countdown(clock, due_at(clock, friday_4pm), friday_4pm)
    assert shown.windows == ((0, 3_600_000),)  # Friday's last hour; Monday 09:00 is 65 hours away
    assert shown.windows_json == "[[0, 3600000]]"
    thursday_8am = utc(2026, 11, 19, 8)
    hour = 3_600_000
    assert countdown(clock, due_at(clock, thursday_8am), thursday_8am).windows == (
        (1 * hour, 9 * hour),
        (25 * hour, 33 * hour),
    )


@pytest.mark.parametrize(
    ("hours", "business", "words"),
    [
        (6.4, True, "6 business hours"),
        (5.5, True, "6 business hours"),
        (1.2, False, "1 hour"),
        (59.6 / 60, True, "1 business hour"),
        (45 / 60, True, "45 business minutes"),
        (1 / 60, False, "1 minute"),
        (20 / 3600, True, ""),
        (-2, True, "2 business hours"),
    ],
)
def test_durations_in_words(hours, business, words):
    assert duration_words(hours, business=business) == words


def test_less_than_a_minute_left():
    clock = Clock(hours=1, calendar="24x7")
    due = due_at(clock, FRIDAY_1108)
    assert countdown(clock, due, due - dt.timedelta(seconds=20)).left == "less than a minute left"
