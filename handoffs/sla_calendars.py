"""The days an SLA policy's business-hours clock is closed: the public holidays of the country (and subdivision) it
names, from the `holidays` package (offline), and its own closed dates (a company shutdown).

The clock itself (handoffs/sla.py) stays pure: it is given the dates as sets. A policy's holidays are computed for
the years around the moment the clock is used, wide enough for the longest count the policy allows, and cached per
region and years. No database here: a policy is anything with the policy's attributes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from typing import Any

import holidays as holiday_data
from holidays.registry import COUNTRIES

from .sla import MAX_HOURS, Clock, clock_of

MAX_CLOSED_DATES = 366
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the closed dates a policy may list
_SMALL_WORDS = {"And", "Of", "The", "Da", "Del", "Du"}


def _words(class_name: str) -> str:
    """ "UnitedKingdom" -> "United Kingdom", "BosniaAndHerzegovina" -> "Bosnia and Herzegovina"."""
    words = re.findall(r"[A-Z][a-z]*|[a-z]+", class_name)
    return " ".join(word.lower() if i and word in _SMALL_WORDS else word for i, word in enumerate(words))


@lru_cache(maxsize=1)
def _countries() -> dict[str, tuple[str, str]]:
    """Every supported country by its two-letter ISO code: (name in words, three-letter code)."""
    return {entry[1]: (_words(entry[0]), entry[2]) for entry in COUNTRIES.values()}


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every country whose public holidays are known, by name."""
    return sorted(((code, name) for code, (name, _) in _countries().items()), key=lambda pair: pair[1])


def country_name(code: str) -> str:
    return _countries().get(code, (code, ""))[0]


@lru_cache(maxsize=512)
def subdivision_choices(country: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of each subdivision of a country that has holidays of its own (the name is the code when the
    package gives none)."""
    if country not in _countries():
        return ()
    entity = holiday_data.country_holidays(country)
    deprecated = set(getattr(entity, "_deprecated_subdivisions", ()) or ())
    names: dict[str, str] = {}
    for name, code in (getattr(entity, "subdivisions_aliases", {}) or {}).items():
        names.setdefault(code, name)
    return tuple((code, names.get(code, code)) for code in entity.subdivisions if code not in deprecated)


def find_country(text: str) -> str | None:
    """The two-letter code of a country given by its two- or three-letter ISO code or its name (any case)."""
    wanted = text.strip().casefold()
    for code, (name, alpha3) in _countries().items():
        if wanted in (code.casefold(), alpha3.casefold(), name.casefold()):
            return code
    return None


def find_subdivision(country: str, text: str) -> str | None:
    """A subdivision's code, given by its code or its name (any case)."""
    wanted = text.strip().casefold()
    for code, name in subdivision_choices(country):
        if wanted in (code.casefold(), name.casefold()):
            return code
    return None


def region_label(country: str, subdivision: str = "") -> str:
    """ "Germany (Berlin)", "United Kingdom", or "" when no country is named."""
    if not country:
        return ""
    if not subdivision:
        return country_name(country)
    name = dict(subdivision_choices(country)).get(subdivision, subdivision)
    return f"{country_name(country)} ({name})"


def holiday_problems(values: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """What is wrong with a policy's holiday region, by field, and the region's fields normalised to codes.

    ``holiday_country``: blank, or a country's ISO code or name; ``holiday_subdivision``: blank, or one of that
    country's subdivisions (code or name), and only with a country.
    """
    problems: dict[str, str] = {}
    country_text = str(values.get("holiday_country") or "").strip()
    subdivision_text = str(values.get("holiday_subdivision") or "").strip()
    clean = {"holiday_country": "", "holiday_subdivision": ""}
    if country_text:
        country = find_country(country_text)
        if country is None:
            problems["holiday_country"] = (
                f"Unknown country “{country_text[:64]}”: give a two-letter ISO code such as DE, GB or US "
                "(the list on the policy page shows every supported country)."
            )
        else:
            clean["holiday_country"] = country
    if subdivision_text:
        if not country_text:
            problems["holiday_subdivision"] = "Name the country first: a subdivision belongs to a country."
        elif "holiday_country" not in problems:
            country = clean["holiday_country"]
            subdivision = find_subdivision(country, subdivision_text)
            if subdivision is None:
                choices = subdivision_choices(country)
                known = ", ".join(f"{code} ({name})" if name != code else code for code, name in choices)
                problems["holiday_subdivision"] = (
                    f"{country_name(country)} has no subdivision “{subdivision_text[:64]}”: "
                    + (f"choose one of {known}, or leave it blank." if choices else "leave it blank.")
                )
            else:
                clean["holiday_subdivision"] = subdivision
    return problems, clean


def parse_closed_dates(text: str, *, label: str = "Line") -> tuple[list[str], list[str]]:
    """Closed dates typed one a line as YYYY-MM-DD (blank lines ignored, commas also separate): the dates sorted,
    without repeats, as ISO strings, and an error for each bad line naming it ("Line 2: ...", or ``label``)."""
    dates: set[str] = set()
    errors: list[str] = []
    for number, line in enumerate(str(text or "").splitlines(), start=1):
        for part in line.split(","):
            item = part.strip()
            if not item:
                continue
            try:
                day = dt.date.fromisoformat(item) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", item) else None
            except ValueError:
                errors.append(f"{label} {number}: “{item[:40]}” is not a date in the calendar.")
                continue
            if day is None:
                errors.append(
                    f"{label} {number}: “{item[:40]}” is not a date: write it as YYYY-MM-DD, e.g. 2026-12-24."
                )
            elif not FIRST_YEAR <= day.year <= LAST_YEAR:
                errors.append(f"{label} {number}: {item} is outside the years {FIRST_YEAR}–{LAST_YEAR}.")
            else:
                dates.add(day.isoformat())
    if len(dates) > MAX_CLOSED_DATES:
        errors.append(f"At most {MAX_CLOSED_DATES} closed dates; {len(dates):,} were given.")
    return sorted(dates), errors


@lru_cache(maxsize=256)
def holiday_dates(country: str, subdivision: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    """The public holidays (observed days included) of a region over a span of years."""
    if not country:
        return frozenset()
    found = holiday_data.country_holidays(country, subdiv=subdivision or None, years=range(first_year, last_year + 1))
    return frozenset(found.keys())


def years_spanned(policy: Any) -> int:
    """How many years a count of the policy's length can run, holidays aside: its hours at the policy's weekly
    working time, plus one for the holidays and closed dates it may skip."""
    per_week = max(1, len(set(policy.working_days or ()))) * max(1, int(policy.end_hour) - int(policy.start_hour))
    weeks = min(max(int(policy.accept_within_hours), 1), MAX_HOURS) / per_week
    return math.ceil(weeks * 7 / 365) + 1


def policy_clock(policy: Any, *, around: dt.datetime | None = None) -> Clock:
    """A policy's clock with its region's public holidays for the years around ``around`` (now by default):
    the year before, through as many years after as its longest count can run."""
    country = getattr(policy, "holiday_country", "") or ""
    subdivision = getattr(policy, "holiday_subdivision", "") or ""
    if not country:
        return clock_of(policy)
    year = (around or dt.datetime.now(dt.UTC)).year
    dates = holiday_dates(country, subdivision, year - 1, year + years_spanned(policy))
    return clock_of(policy, holidays=dates, holiday_region=region_label(country, subdivision))
