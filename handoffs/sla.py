"""SLA clocks: when a handoff must be accepted, and how many hours of a clock ran between two moments.

A clock is a number of hours counted on a calendar:

- **24x7**: every hour counts. ``due = start + hours``; hours between two moments = ``(end - start)`` in hours.
- **Business hours**: only the time inside the window ``[start_hour, end_hour)`` of the local wall clock
  on working days (0 = Monday ... 6 = Sunday) in the clock's IANA time zone counts. Each day's window is
  taken in local time and then converted to UTC, so a 9-17 window stays 9-17 locally across daylight-saving
  changes while its UTC instants shift by the change. ``end_hour`` 24 is the following midnight.
  A local hour that does not exist (the spring-forward gap) is read with the offset before the change and
  an ambiguous one (fall-back) as its first occurrence, as ``zoneinfo`` does with ``fold=0``.
  A public holiday (``holidays``, computed by the caller for the region the policy names) or one of the policy's
  own closed dates is no working day: a local date in either set has no window. A 24x7 clock ignores both.

  ``due`` is the moment at which ``hours`` of window time have passed since ``start``:
  a start outside working time begins counting at the next window's start, and a due time that lands
  exactly on a window's end stays there (Friday 16:00 + 1 h = Friday 17:00, not Monday 09:00).
  Hours between two moments = the total overlap of ``[start, end]`` with the windows; it is antisymmetric
  (between(b, a) = -between(a, b)), and ``between(start, due_at(start)) == hours``.

A pending handoff's countdown reads in its clock: "6 business hours left · due Mon 11:08" (the due moment in the
clock's time zone), "3 hours left" on a 24x7 clock, "overdue by 2 business hours" (`countdown`).

Datetimes in are aware (any zone); datetimes out are aware UTC. Pure: no database, no settings.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

ALWAYS = "24x7"
BUSINESS_HOURS = "business_hours"
CALENDARS = (ALWAYS, BUSINESS_HOURS)
MIN_HOURS, MAX_HOURS = 1, 720
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UTC = dt.UTC


@dataclass(frozen=True)
class Clock:
    hours: float
    calendar: str
    time_zone: str = "UTC"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start_hour: int = 9
    end_hour: int = 17
    # Local dates that are not working days on a business-hours clock: the public holidays of ``holiday_region``
    # (its name in words, e.g. "Germany (Berlin)") and the policy's own closed dates (a shutdown).
    holidays: frozenset[dt.date] = frozenset()
    holiday_region: str = ""
    closed_dates: frozenset[dt.date] = frozenset()

    def is_closed(self, day: dt.date) -> bool:
        return day in self.holidays or day in self.closed_dates


def clock_of(policy: Any, *, holidays: frozenset[dt.date] = frozenset(), holiday_region: str = "") -> Clock:
    """The clock of an SLA policy (anything with the policy's attributes), with the public holidays of the region
    it names (computed by the caller) and its own closed dates (ISO date strings)."""
    return Clock(
        hours=float(policy.accept_within_hours),
        calendar=policy.calendar,
        time_zone=policy.time_zone,
        working_days=tuple(sorted({int(day) for day in policy.working_days})),
        start_hour=int(policy.start_hour),
        end_hour=int(policy.end_hour),
        holidays=frozenset(holidays),
        holiday_region=holiday_region,
        closed_dates=frozenset(dt.date.fromisoformat(day) for day in getattr(policy, "closed_dates", None) or ()),
    )


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    # "localtime" names the server's own zone, which differs from machine to machine.
    return frozenset(available_timezones() - {"localtime"})


def _whole(value: Any) -> int | None:
    """An integer given as an int (not a bool), or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def clock_problems(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with a policy's clock settings, by field name; only the fields present are checked.

    Fields: accept_within_hours (1-720), calendar, time_zone (an IANA name), working_days (at least one,
    each 0-6), start_hour (0-23), end_hour (1-24, after start_hour).
    """
    problems: dict[str, str] = {}
    if "accept_within_hours" in values:
        hours = _whole(values["accept_within_hours"])
        if hours is None or not MIN_HOURS <= hours <= MAX_HOURS:
            problems["accept_within_hours"] = f"Accept within {MIN_HOURS} to {MAX_HOURS} hours."
    if "calendar" in values and values["calendar"] not in CALENDARS:
        problems["calendar"] = "Choose 24x7 or business hours."
    if "time_zone" in values:
        name = values["time_zone"]
        if not isinstance(name, str) or not name.strip():
            problems["time_zone"] = "Give a time zone, e.g. Europe/Berlin."
        elif name not in time_zone_names():
            problems["time_zone"] = f"Unknown time zone “{name[:64]}”: use an IANA name such as Europe/Berlin."
    if "working_days" in values:
        days = values["working_days"]
        if not isinstance(days, list | tuple) or any(_whole(day) is None or not 0 <= day <= 6 for day in days):
            problems["working_days"] = "Working days are numbers from 0 (Monday) to 6 (Sunday)."
        elif not days:
            problems["working_days"] = "Pick at least one working day."
    start = _whole(values.get("start_hour"))
    if "start_hour" in values and (start is None or not 0 <= start <= 23):
        problems["start_hour"] = "The working day starts at an hour from 0 to 23."
        start = None
    if "end_hour" in values:
        end = _whole(values["end_hour"])
        if end is None or not 1 <= end <= 24:
            problems["end_hour"] = "The working day ends at an hour from 1 to 24."
        elif start is not None and end <= start:
            problems["end_hour"] = "The working day must end after it starts."
    return problems


def _check(clock: Clock) -> None:
    """The conditions without which a business-hours count would never end."""
    if clock.calendar not in CALENDARS:
        raise ValueError(f"Unknown calendar {clock.calendar!r}.")
    if clock.calendar == BUSINESS_HOURS:
        if not any(0 <= day <= 6 for day in clock.working_days):
            raise ValueError("A business-hours clock needs at least one working day.")
        if not 0 <= clock.start_hour < clock.end_hour <= 24:
            raise ValueError("A business-hours clock needs 0 <= start_hour < end_hour <= 24.")


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("SLA clocks take aware datetimes.")
    return moment.astimezone(UTC)


def _window(clock: Clock, zone: ZoneInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """A working day's window in UTC, from its local wall-clock hours."""
    opens = dt.datetime.combine(day, dt.time(clock.start_hour), tzinfo=zone)
    if clock.end_hour == 24:
        closes = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    else:
        closes = dt.datetime.combine(day, dt.time(clock.end_hour), tzinfo=zone)
    return opens.astimezone(UTC), closes.astimezone(UTC)


def _windows(clock: Clock, start: dt.datetime):
    """The windows that end after ``start``, in order, forever (the caller stops)."""
    zone = ZoneInfo(clock.time_zone)
    days = set(clock.working_days)
    # A window lies within its own local day, so none before start's local date can end after start.
    day = start.astimezone(zone).date()
    while True:
        if day.weekday() in days and not clock.is_closed(day):
            opens, closes = _window(clock, zone, day)
            if closes > start and closes > opens:
                yield max(opens, start), closes
        day += dt.timedelta(days=1)


def due_at(clock: Clock, start: dt.datetime) -> dt.datetime:
    """The moment ``clock.hours`` of the clock have run since ``start`` (UTC)."""
    _check(clock)
    start = _aware(start)
    remaining = dt.timedelta(hours=clock.hours)
    if clock.calendar == ALWAYS or remaining <= dt.timedelta(0):
        return start + remaining
    for opens, closes in _windows(clock, start):
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("unreachable: the windows never end")  # pragma: no cover


def business_hours_between(clock: Clock, start: dt.datetime, end: dt.datetime) -> float:
    """Hours of the clock that run between two moments (plain hours for 24x7); negative if end < start."""
    _check(clock)
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_hours_between(clock, end, start)
    if clock.calendar == ALWAYS:
        return (end - start) / dt.timedelta(hours=1)
    counted = dt.timedelta(0)
    for opens, closes in _windows(clock, start):
        if opens >= end:
            break
        counted += min(closes, end) - opens
    return counted / dt.timedelta(hours=1)


def days_label(working_days: tuple[int, ...] | list[int]) -> str:
    """Working days in words: runs of three or more days as a range ("Mon–Fri"), others listed."""
    days = sorted({day for day in working_days if 0 <= day <= 6})
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{DAY_NAMES[run[0]]}–{DAY_NAMES[run[-1]]}")
        else:
            parts.extend(DAY_NAMES[day] for day in run)
    return ", ".join(parts) or "no days"


def closures_label(clock: Clock) -> str:
    """The days a business-hours clock is closed besides its weekly days off, in words: "public holidays in Germany
    (Berlin) and 2 closed dates", "1 closed date", or "" when there are none."""
    parts = []
    if clock.holiday_region:
        parts.append(f"public holidays in {clock.holiday_region}")
    if clock.closed_dates:
        count = len(clock.closed_dates)
        parts.append(f"{count:,} closed date{'s' if count != 1 else ''}")
    return " and ".join(parts)


def describe(clock: Clock) -> str:
    """The clock in words, e.g. "4 business hours (Mon–Fri 09:00–17:00 Europe/Berlin)", "8 business hours
    (Mon–Fri 09:00–17:00 Europe/Berlin, except public holidays in Germany (Berlin) and 2 closed dates)" or
    "72 hours, 24x7" (a 24x7 clock counts holidays too)."""
    hours = f"{clock.hours:g}"
    if clock.calendar == ALWAYS:
        return f"{hours} hours, 24x7"
    closures = closures_label(clock)
    except_ = f", except {closures}" if closures else ""
    return (
        f"{hours} business hours ({days_label(clock.working_days)} "
        f"{clock.start_hour:02d}:00–{clock.end_hour:02d}:00 {clock.time_zone}{except_})"
    )


# --- The countdown in words ---------------------------------------------------------------------------------------

COUNTDOWN_HORIZON = dt.timedelta(hours=48)  # the windows a page is given to keep its countdown ticking


@dataclass(frozen=True)
class Countdown:
    """A pending handoff's time left on its policy's clock, in words and in the numbers a page needs to tick it.

    ``left`` reads "6 business hours left" or "overdue by 2 business hours" ("3 hours left" on a 24x7 clock); ``due``
    reads "due Mon 11:08" in the policy's time zone; ``text`` is both, joined by " · ". ``left_ms`` is the clock's time
    left in milliseconds (negative once overdue), ``due_in_ms`` the plain time to the due moment; ``windows`` are the
    spans, in milliseconds from now, in which a business-hours clock runs over the next two days (None: 24x7, always).
    """

    left: str
    due: str
    title: str
    overdue: bool
    business: bool
    left_ms: int
    due_in_ms: int
    windows: tuple[tuple[int, int], ...] | None

    @property
    def text(self) -> str:
        return f"{self.left} · {self.due}"

    @property
    def windows_json(self) -> str:
        return json.dumps([list(span) for span in self.windows or ()])


def duration_words(hours: float, *, business: bool) -> str:
    """A span of a clock in words: whole minutes under an hour ("45 business minutes"), else hours rounded half up
    ("6 business hours", "1 hour"); "" when it rounds to no minute. static/js/handoffs.js writes the same words."""
    minutes = int(abs(hours) * 60 + 0.5)
    kind = "business " if business else ""
    if minutes == 0:
        return ""
    if minutes < 60:
        return f"{minutes} {kind}minute{'s' if minutes != 1 else ''}"
    whole = int(abs(hours) + 0.5)
    return f"{whole} {kind}hour{'s' if whole != 1 else ''}"


def left_words(left_hours: float, *, overdue: bool, business: bool) -> str:
    """ "6 business hours left", "less than a minute left", "overdue by 2 business hours", or "overdue" when the
    clock has not run since the due moment (a business-hours clock outside its hours)."""
    if overdue:
        words = duration_words(-min(left_hours, 0.0), business=business)
        return f"overdue by {words}" if words else "overdue"
    words = duration_words(max(left_hours, 0.0), business=business)
    return f"{words} left" if words else "less than a minute left"


def _ms(delta: dt.timedelta) -> int:
    return round(delta / dt.timedelta(milliseconds=1))


def countdown(clock: Clock, due: dt.datetime, now: dt.datetime) -> Countdown:
    """The countdown of a handoff due at ``due`` on ``clock``, as of ``now``."""
    _check(clock)
    due, now = _aware(due), _aware(now)
    business = clock.calendar == BUSINESS_HOURS
    left_hours = business_hours_between(clock, now, due)
    overdue = now > due
    zone = ZoneInfo(clock.time_zone)
    local = due.astimezone(zone)
    day = DAY_NAMES[local.weekday()]
    near = abs(due - now) < dt.timedelta(days=6)
    when = f"{day} {local:%H:%M}" if near else f"{day} {local.day} {local:%b %H:%M}"
    title = f"Due {local:%A} {local.day} {local:%B %Y, %H:%M} {clock.time_zone}"
    if clock.time_zone != "UTC":
        title += f" ({due:%H:%M} UTC)"
    windows = None
    if business:
        spans = []
        for opens, closes in _windows(clock, now):
            if opens >= now + COUNTDOWN_HORIZON:
                break
            spans.append((_ms(opens - now), _ms(closes - now)))
        windows = tuple(spans)
    return Countdown(
        left=left_words(left_hours, overdue=overdue, business=business),
        due=f"due {when}",
        title=title,
        overdue=overdue,
        business=business,
        left_ms=round(left_hours * 3_600_000),
        due_in_ms=_ms(due - now),
        windows=windows,
    )
