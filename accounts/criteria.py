"""The criterion language, in one place: what an account's fit criteria, exclusions and territory rules say, how an
account matches one, and what makes one valid. Plain values in, plain values out; no ORM.

Criterion {group, attribute, operator, value, points}. Operators: eq, neq, in, not_in, gte, lte, between
(inclusive), contains (an element of a list attribute, or a substring of a text one), exists.
Text comparison ignores case and surrounding spaces. A missing value (None, blank text, empty list) matches nothing
but `neq` and `not_in`.

An attribute is one of ACCOUNT_FIELDS, the account's own fields with their types, or any other name, which is read
from the account's `attributes` (a field's name always means the field). Every reader of accounts (the SQL engine,
the Python scoring, routing and recalibration) reads exactly these fields, through `account_values` or, in SQL, the
columns of the same names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

OPERATORS = ("eq", "neq", "in", "not_in", "gte", "lte", "between", "contains", "exists")
NUMERIC_OPERATORS = ("gte", "lte", "between")

TEXT, NUMBER, LIST, BOOLEAN, ANY = "text", "number", "list", "boolean", "any"
# The account fields criteria may read, with their type; any other name is a key of the account's `attributes`.
ACCOUNT_FIELDS = {
    "name": TEXT,
    "domain": TEXT,
    "external_id": TEXT,
    "industry": TEXT,
    "country": TEXT,
    "region": TEXT,
    "city": TEXT,
    "employee_count": NUMBER,
    "annual_revenue": NUMBER,
    "year_founded": NUMBER,
    "technologies": LIST,
    "is_customer": BOOLEAN,
    "lookalike": NUMBER,  # computed by segmentation (0-100, null until computed)
    "surging_topics": LIST,  # computed from the account's signals (accounts/topics.py)
}
# Fields criteria read that the product computes, with where from: never imported nor written through the API.
COMPUTED_FIELDS = {
    "lookalike": "from the accounts won lately (the lookalike refresh)",
    "surging_topics": "from the topics of the account's signals",
}
# What to read of an account row so that `account_values` can build what criteria see.
VALUE_COLUMNS = ("id", *ACCOUNT_FIELDS, "attributes")
OPERATORS_BY_TYPE = {
    TEXT: ("eq", "neq", "in", "not_in", "contains", "exists"),
    NUMBER: ("eq", "neq", "in", "not_in", "gte", "lte", "between", "exists"),
    LIST: ("eq", "neq", "in", "not_in", "contains", "exists"),
    BOOLEAN: ("eq", "neq", "exists"),
    ANY: OPERATORS,
}
MAX_POINTS = 10_000


@dataclass(frozen=True)
class Criterion:
    attribute: str
    operator: str
    value: Any = None
    points: float = 0.0
    group: str = ""

    @property
    def group_name(self) -> str:
        return self.group or self.attribute


def criterion_from_dict(data: Mapping[str, Any]) -> Criterion:
    """A stored criterion ({attribute, operator, value, points, group}) as the matcher takes it."""
    return Criterion(
        attribute=str(data["attribute"]).strip(),
        operator=data["operator"],
        value=data.get("value"),
        points=float(data.get("points") or 0),
        group=(data.get("group") or "").strip(),
    )


def account_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """What criteria read of an account (a row with VALUE_COLUMNS): the keys of its attributes, then its fields,
    which win over an attribute of the same name."""
    values = dict(row.get("attributes") or {})
    values.update({name: row.get(name) for name in ACCOUNT_FIELDS})
    return values


def values_reader(columns: Iterable[str]) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """`account_values` for rows that hold only `columns` (the fields some rules name, and `attributes` when a rule
    names something that is not a field): the same values for those rules, without asking a row for every field."""
    fields = tuple(c for c in columns if c in ACCOUNT_FIELDS)
    if "attributes" not in columns:
        return lambda row: {name: row[name] for name in fields}

    def values(row: Mapping[str, Any]) -> dict[str, Any]:
        found = dict(row["attributes"] or {})
        found.update({name: row[name] for name in fields})
        return found

    return values


def attribute_type(name: str) -> str:
    return ACCOUNT_FIELDS.get(name, ANY)


# --- Matching --------------------------------------------------------------------------------------------------

NUMBER_START = frozenset("0123456789+-.")


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | set):
        return len(value) == 0
    return False


def normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    return value


def as_number(value: Any) -> float | None:
    """A number as a person writes it (5, "5", " 5.0 "); None for anything else, booleans included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text or text[0] not in NUMBER_START:  # cheap test first: most text is not a number
            return None
        try:
            return float(text)
        except ValueError:
            return None
    return None


def equal(actual: Any, expected: Any) -> bool:
    """Equality as a person means it: numbers by value, text ignoring case and spaces, lists by any element."""
    if isinstance(actual, list | tuple | set):
        return any(equal(item, expected) for item in actual)
    if isinstance(actual, str) and isinstance(expected, str):
        a, e = actual.strip().lower(), expected.strip().lower()
        if a == e:
            return True
        number_a, number_e = as_number(a), as_number(e)
        return number_a is not None and number_e is not None and number_a == number_e
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).strip().lower() == str(expected).strip().lower()
    a, e = as_number(actual), as_number(expected)
    if a is not None and e is not None:
        return a == e
    return normal(actual) == normal(expected)


def criterion_matches(criterion: Criterion, values: Mapping[str, Any]) -> bool:
    """Whether an account (its attribute values) matches one criterion."""
    actual = values.get(criterion.attribute)
    op = criterion.operator
    if is_missing(actual):
        return op in ("neq", "not_in")
    expected = criterion.value
    if op == "exists":
        return True
    if op == "eq":
        return equal(actual, expected)
    if op == "neq":
        return not equal(actual, expected)
    if op == "in":
        return any(equal(actual, option) for option in expected or ())
    if op == "not_in":
        return not any(equal(actual, option) for option in expected or ())
    if op == "contains":
        if isinstance(actual, list | tuple | set):
            return any(normal(item) == normal(expected) for item in actual)
        return isinstance(actual, str) and str(expected).strip().lower() in actual.lower()
    actual_number = as_number(actual)
    if actual_number is None:
        return False
    if op == "gte":
        return actual_number >= float(expected)
    if op == "lte":
        return actual_number <= float(expected)
    if op == "between":
        low, high = expected
        return float(low) <= actual_number <= float(high)
    raise ValueError(f"Unknown operator {op!r}")


def all_groups_match(criteria: Iterable[Criterion], values: Mapping[str, Any]) -> bool:
    """Rules read as: criteria sharing a group are alternatives, and every group must match (no criteria: none)."""
    groups: dict[str, bool] = {}
    for criterion in criteria:
        name = criterion.group_name
        groups[name] = groups.get(name, False) or criterion_matches(criterion, values)
    return bool(groups) and all(groups.values())


# --- Validation ------------------------------------------------------------------------------------------------


def criterion_problem(operator: str, value: Any) -> str | None:
    """Why a criterion's value does not suit its operator, in words; None when it does."""
    if operator not in OPERATORS:
        return f"Unknown operator {operator!r}: use one of {', '.join(OPERATORS)}."
    if operator in ("in", "not_in") and not isinstance(value, list):
        return f"`{operator}` needs a list of values."
    if operator == "between" and not (
        isinstance(value, list) and len(value) == 2 and all(as_number(v) is not None for v in value)
    ):
        return "`between` needs [low, high] numbers."
    if operator in ("gte", "lte") and as_number(value) is None:
        return f"`{operator}` needs a number."
    if operator != "exists" and value is None:
        return "This operator needs a value."
    return None


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false"))


def criterion_errors(data: Any, *, keys: set[str], with_points: bool) -> dict[str, str]:
    """Field -> message for one criterion given as a dict; empty when it is valid. `keys`: the attribute keys
    accounts hold (names criteria may use besides ACCOUNT_FIELDS)."""
    if not isinstance(data, dict):
        return {"attribute": "A criterion is an object with attribute, operator and value."}
    errors: dict[str, str] = {}
    attribute = str(data.get("attribute") or "").strip()
    operator = data.get("operator")
    value = data.get("value")
    if not attribute:
        errors["attribute"] = "Choose an attribute."
    elif attribute not in ACCOUNT_FIELDS and attribute not in keys:
        errors["attribute"] = (
            f"Unknown attribute {attribute!r}: use an account field ({', '.join(ACCOUNT_FIELDS)}) "
            "or a key found in accounts' attributes."
        )
    if operator not in OPERATORS:
        errors["operator"] = f"Unknown operator {operator!r}: use one of {', '.join(OPERATORS)}."
    elif "attribute" not in errors:
        kind = attribute_type(attribute)
        if operator not in OPERATORS_BY_TYPE[kind]:
            errors["operator"] = (
                f"`{operator}` does not apply to {attribute} ({kind}); use one of {', '.join(OPERATORS_BY_TYPE[kind])}."
            )
        else:
            problem = criterion_problem(operator, value)
            values = value if isinstance(value, list) else [value]
            if problem:
                errors["value"] = problem
            elif (
                kind == NUMBER
                and operator in ("eq", "neq", "in", "not_in")
                and any(as_number(v) is None for v in values)
            ):
                errors["value"] = f"{attribute} is a number: compare it with numbers."
            elif kind == BOOLEAN and operator in ("eq", "neq") and not _is_bool(value):
                errors["value"] = f"{attribute} is true or false."
            elif operator == "between" and float(value[0]) > float(value[1]):
                errors["value"] = "`between` needs the low value first."
    if with_points:
        points = as_number(data.get("points"))
        if points is None or not math.isfinite(points):
            errors["points"] = "Points must be a number (negative for a penalty)."
        elif abs(points) > MAX_POINTS:
            errors["points"] = "Points must lie between -10,000 and 10,000."
    group = data.get("group")
    if group is not None and not isinstance(group, str):
        errors["group"] = "A group is a name."
    elif group and len(group) > 120:
        errors["group"] = "A group name has at most 120 characters."
    return errors


def attributes_named(items: Any) -> set[str]:
    """The attribute names criteria use that are not account fields: the keys to look up in accounts' attributes."""
    if not isinstance(items, list):
        return set()
    names = {str(item.get("attribute") or "").strip() for item in items if isinstance(item, dict)}
    return {name for name in names if name and name not in ACCOUNT_FIELDS}


def criteria_errors(items: Any, *, keys: set[str], with_points: bool = True) -> dict[int, dict]:
    """Index -> {field: message} for a list of criteria; {-1: {...}} when it is not a list at all."""
    if not isinstance(items, list):
        return {-1: {"criteria": "Criteria are a list."}}
    found = {}
    for index, item in enumerate(items):
        errors = criterion_errors(item, keys=keys, with_points=with_points)
        if errors:
            found[index] = errors
    return found


# --- In words --------------------------------------------------------------------------------------------------

FIELD_LABELS = {
    "name": "Name",
    "domain": "Domain",
    "external_id": "Account ID",
    "industry": "Industry",
    "country": "Country",
    "region": "Region",
    "city": "City",
    "employee_count": "Employees",
    "annual_revenue": "Annual revenue",
    "year_founded": "Year founded",
    "technologies": "Technologies",
    "is_customer": "Customer",
    "lookalike": "Lookalike score",
    "surging_topics": "Surging topics",
}
# Text fields whose values are proper names: a value typed in lower case reads capitalised ("united states").
PROPER_NAME_FIELDS = frozenset({"industry", "country", "region", "city"})
MONEY_FIELDS = frozenset({"annual_revenue"})
PLAIN_NUMBER_FIELDS = frozenset({"year_founded"})  # a year reads 2010, not 2,010


def computed_field_message(name: str) -> str:
    """Why a computed field (COMPUTED_FIELDS, or an attribute of the same name) cannot be written."""
    field_name = name.rsplit(".", 1)[-1]
    source = COMPUTED_FIELDS.get(field_name)
    return (
        f"{attribute_label(field_name)} ({field_name}) is computed by the product"
        + (f", {source}" if source else "")
        + ": it cannot be written or imported; leave it out."
    )


def attribute_label(attribute: str) -> str:
    """A field's label ("Employees"); an attributes key as words ("Lead source" for lead_source)."""
    name = str(attribute or "").strip()
    return FIELD_LABELS.get(name) or name.replace("_", " ").strip().capitalize() or "(no attribute)"


def _number_text(number: float) -> str:
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def money(number: float) -> str:
    """$1B, $250M, $1.5M, $900K, $950: amounts as a revenue team says them."""
    size = abs(number)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= scale:
            short = f"{size / scale:.1f}".rstrip("0").rstrip(".")
            return f"{'-' if number < 0 else ''}${short}{suffix}"
    return f"{'-' if number < 0 else ''}${_number_text(size)}"


def value_text(attribute: str, value: Any) -> str:
    """One value of an attribute as a person reads it: numbers with separators, money in dollars, names capitalised,
    yes/no for booleans."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false")):
        return "yes" if str(value).strip().lower() == "true" else "no"
    number = as_number(value)
    if number is not None and math.isfinite(number):
        if attribute in MONEY_FIELDS:
            return money(number)
        if attribute in PLAIN_NUMBER_FIELDS:
            return f"{int(number)}" if number == int(number) else str(number)
        return _number_text(number)
    text = str(value).strip() if value is not None else ""
    if attribute in PROPER_NAME_FIELDS and text == text.lower():
        return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))
    return text


def _values_text(attribute: str, values: Any) -> str:
    items = values if isinstance(values, list | tuple) else [values]
    return ", ".join(value_text(attribute, v) for v in items)


def criterion_sentence(attribute: str, operator: str, value: Any) -> str:
    """A criterion as a sentence with the field's label: "Employees between 1,000 and 10,000", "Annual revenue ≥ $1B",
    "Industry is one of Software, Technology", "Is a customer"."""
    attribute = str(attribute or "").strip()
    label = attribute_label(attribute)
    kind = attribute_type(attribute)
    if operator == "exists":
        return f"{label} is known"
    if kind == BOOLEAN or (operator in ("eq", "neq") and _is_bool(value)):
        truth = str(value).strip().lower() == "true"
        if operator == "neq":
            truth = not truth
        if attribute == "is_customer":
            return "Is a customer" if truth else "Is not a customer"
        return f"{label} is {'yes' if truth else 'no'}"
    if operator == "between" and isinstance(value, list | tuple) and len(value) == 2:
        return f"{label} between {value_text(attribute, value[0])} and {value_text(attribute, value[1])}"
    if operator == "gte":
        return f"{label} ≥ {value_text(attribute, value)}"
    if operator == "lte":
        return f"{label} ≤ {value_text(attribute, value)}"
    if operator == "contains":
        verb = "include" if kind == LIST else "contains"
        return f"{label} {verb} {value_text(attribute, value)}"
    words = {"eq": "is", "neq": "is not", "in": "is one of", "not_in": "is none of"}.get(operator, operator)
    return f"{label} {words} {_values_text(attribute, value)}"


def with_group(group: str | None, words: str) -> str:
    """A criterion's sentence under its group's name, unless the sentence already starts with it ("Industry is
    Software", not "Industry: Industry is Software"; "Size: Employees ≥ 500")."""
    group = (group or "").strip()
    return words if not group or words.lower().startswith(group.lower()) else f"{group}: {words}"


def criteria_sentences(items: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each stored criterion ({attribute, operator, value}) as a sentence."""
    return [criterion_sentence(i.get("attribute", ""), i.get("operator", ""), i.get("value")) for i in items]
