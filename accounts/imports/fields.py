"""Parsers that turn one raw cell (text from a CSV, or a JSON value from the API) into a model value.

Each parser returns the clean value, or None for an empty cell, and raises FieldError with a message
a person can act on ("employee_count: '12a' is not a whole number").
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ..criteria import attribute_label
from ..matching import normalise_domain  # noqa: F401  (re-exported: imports/refs.py reads it from here)


class FieldError(ValueError):
    pass


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def text(max_length: int) -> Callable[[Any], str | None]:
    def parse(raw: Any) -> str | None:
        if is_blank(raw):
            return None
        value = str(raw).strip()
        if len(value) > max_length:
            raise FieldError(f"is longer than {max_length} characters")
        return value

    return parse


MAX_NUMBER_TEXT = 40  # characters: more is no number a CRM holds (and costly to parse)
MAX_EXPONENT = 30
# A number as people write it in a CSV: an optional sign, digits with commas between thousands (in groups of three
# only), a dot for decimals, an optional exponent (1.5e6). README "Importing data" documents the formats.
NUMBER_RE = re.compile(
    r"^(?P<sign>[+-])?(?P<whole>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<fraction>\d+))?(?:[eE](?P<exponent>[+-]?\d+))?$"
)


def parse_number(raw: Any, *, what: str = "a number", money: bool = False) -> Decimal:
    """A number from a cell or a JSON value, refused (FieldError) unless it is plainly one: no infinities or NaNs,
    no exponent beyond +-30, no text past 40 characters, a comma only between thousands (`1,200`; `1,5` is
    ambiguous). Bounded before it is converted, so no input costs more than a few microseconds."""
    if isinstance(raw, bool):
        raise FieldError(f"{raw!r} is not {what}")
    if isinstance(raw, int):
        if abs(raw) >= 10**MAX_NUMBER_TEXT:
            raise FieldError(f"is too large to be {what}")
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise FieldError(f"{raw!r} is not {what}")
        return Decimal(repr(raw))
    text = str(raw).strip()
    shown = text if len(text) <= MAX_NUMBER_TEXT else text[:MAX_NUMBER_TEXT] + "..."
    if len(text) > MAX_NUMBER_TEXT:
        raise FieldError(f"{shown!r} is too long to be {what}")
    if money and text.startswith("$"):
        text = text[1:].lstrip()
    match = NUMBER_RE.match(text)
    if match is None or not (match["whole"] or match["fraction"]):
        if "," in text and re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", text):
            raise FieldError(
                f"{shown!r} is ambiguous: a comma separates thousands only in groups of three (1,200); "
                "write a dot for decimals (1.5)"
            )
        raise FieldError(f"{shown!r} is not {what}")
    if match["exponent"] is not None and abs(int(match["exponent"])) > MAX_EXPONENT:
        raise FieldError(f"{shown!r} is out of range for {what}")
    return Decimal(text.replace(",", ""))


def whole_number(minimum: int = 0, maximum: int = 2**31 - 1) -> Callable[[Any], int | None]:
    def parse(raw: Any) -> int | None:
        if is_blank(raw):
            return None
        number = parse_number(raw, what="a whole number")
        if number != number.to_integral_value():
            raise FieldError(f"{raw!r} is not a whole number")
        if not minimum <= number <= maximum:
            raise FieldError(f"{number:f} is out of range ({minimum} to {maximum})".replace(".0 ", " "))
        return int(number)

    return parse


def decimal_number(max_digits: int = 18, places: int = 2, scale: int = 1) -> Callable[[Any], Decimal | None]:
    limit = Decimal(10) ** (max_digits - places)

    def parse(raw: Any) -> Decimal | None:
        if is_blank(raw):
            return None
        value = parse_number(raw, money=True) * scale
        if value < 0:
            raise FieldError(f"{raw!r} must not be negative")
        if abs(value) >= limit:
            raise FieldError(f"{raw!r} is too large")
        return value.quantize(Decimal(1).scaleb(-places))

    return parse


def date_value(raw: Any) -> dt.date | None:
    if is_blank(raw):
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        value = parse_date(str(raw).strip())
    except ValueError:
        value = None
    if value is None:
        raise FieldError(f"{raw!r} is not a date (use YYYY-MM-DD)")
    return value


def datetime_value(raw: Any) -> dt.datetime | None:
    """ISO 8601; a time without a zone is taken as UTC; a bare date is midnight UTC."""
    if is_blank(raw):
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        cleaned = str(raw).strip()
        try:
            value = parse_datetime(cleaned)
        except ValueError:
            value = None
        if value is None:
            try:
                day = parse_date(cleaned)
            except ValueError:
                day = None
            if day is None:
                raise FieldError(f"{raw!r} is not a date and time (use ISO 8601, e.g. 2024-05-01T13:45:00Z)")
            value = dt.datetime.combine(day, dt.time.min)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise FieldError(f"{raw!r} is out of range once taken to UTC") from None


TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


def boolean(raw: Any) -> bool | None:
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldError(f"{raw!r} is not yes/no (use true/false, yes/no or 1/0)")


def string_list(raw: Any) -> list[str] | None:
    """A JSON list, or text separated by ';' or '|' (commas are too common inside names)."""
    if is_blank(raw):
        return None
    if isinstance(raw, list | tuple):
        items = raw
    else:
        cleaned = str(raw).strip()
        if cleaned.startswith("["):
            try:
                items = json.loads(cleaned)
            except json.JSONDecodeError:
                raise FieldError(f"{raw!r} is not a valid JSON list") from None
            if not isinstance(items, list):
                raise FieldError(f"{raw!r} is not a list")
        else:
            items = re.split(r"[;|]", cleaned)
    values = []
    for item in items:
        if not isinstance(item, str | int | float):
            raise FieldError(f"{item!r} in the list is not text")
        word = str(item).strip()
        if word and word not in values:
            values.append(word)
    return values


DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def domain(raw: Any) -> str | None:
    if is_blank(raw):
        return None
    value = normalise_domain(str(raw))
    if not DOMAIN_RE.match(value):
        raise FieldError(f"{raw!r} is not a domain name (e.g. example.com)")
    return value


def email(raw: Any) -> str | None:
    if is_blank(raw):
        return None
    value = str(raw).strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        raise FieldError(f"{raw!r} is not an email address") from None
    return value


def choice(options: tuple[str, ...], default: str | None = None) -> Callable[[Any], str | None]:
    def parse(raw: Any) -> str | None:
        if is_blank(raw):
            return default
        value = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
        if value not in options:
            raise FieldError(f"{raw!r} is not one of: {', '.join(options)}")
        return value

    return parse


SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def signal_kind(raw: Any) -> str | None:
    if is_blank(raw):
        return None
    value = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
    if not SLUG_RE.match(value):
        raise FieldError(f"{raw!r} is not a signal kind (lower_snake_case, e.g. web_visit)")
    return value


def reference(raw: Any) -> str | None:
    """A reference to another row (an account, contact, user or territory), resolved later in batches."""
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        raise FieldError(f"{raw!r} is not a reference")
    return str(raw).strip()


@dataclass(frozen=True)
class Field:
    name: str
    parse: Callable[[Any], Any]
    required: bool = False
    help: str = ""
    label: str = ""  # as pages name it; the account field's label (accounts.criteria) or the name in words if blank

    @property
    def title(self) -> str:
        return self.label or attribute_label(self.name)
