"""Criteria in SQL, matched exactly as the pure module matches them: the pure matcher runs on each attribute's
distinct values in the slice (in Python), and SQL compares the account's value with those that pass; numeric ranges
on numeric columns are compared in SQL directly."""

from __future__ import annotations

import json

from django.db import connection

from accounts.criteria import ACCOUNT_FIELDS, NUMBER, NUMERIC_OPERATORS, Criterion, criterion_matches
from accounts.models import Account

ACCOUNT_TABLE = Account._meta.db_table
COLUMN_TYPES = {
    "employee_count": "bigint",
    "year_founded": "bigint",
    "annual_revenue": "numeric",
    "technologies": "jsonb",
    "surging_topics": "jsonb",
    "is_customer": "boolean",
    "lookalike": "double precision",
}


def _attribute_sql(attribute: str) -> tuple[str, list, str]:
    """(SQL expression, its parameters, its SQL type) for an attribute as criteria read it."""
    if attribute in ACCOUNT_FIELDS:
        return f"a.{attribute}", [], COLUMN_TYPES.get(attribute, "text")
    return "(a.attributes -> %s)", [attribute], "jsonb"


def _direct(criterion: Criterion) -> bool:
    """Numeric ranges on numeric columns compare in SQL; everything else goes through the distinct values."""
    return criterion.operator in NUMERIC_OPERATORS and ACCOUNT_FIELDS.get(criterion.attribute) == NUMBER


def distinct_values(criteria: list[Criterion], where: str, where_params: list) -> dict[str, list]:
    """attribute -> the slice's distinct values (None left out), as Python sees them.

    One scan with hashed grouping sets, one set per attribute (GROUPING() takes at most 31 of them).
    """
    attributes = sorted({c.attribute for c in criteria if not _direct(c)})
    if not attributes:
        return {}
    values: dict[str, list] = {}
    for start in range(0, len(attributes), GROUPING_MAX):
        values.update(_distinct_batch(attributes[start : start + GROUPING_MAX], where, where_params))
    return values


GROUPING_MAX = 31  # attributes per scan: GROUPING() returns an int bit mask


def _distinct_batch(attributes: list[str], where: str, where_params: list) -> dict[str, list]:
    exprs, params = [], []
    for attribute in attributes:
        expr, expr_params, _ = _attribute_sql(attribute)
        exprs.append(expr)
        params += expr_params
    jsonb = [_attribute_sql(attribute)[2] == "jsonb" for attribute in attributes]
    names = [f"v{n}" for n in range(len(attributes))]
    inner = ", ".join(f"{e} AS {v}" for e, v in zip(exprs, names, strict=True))
    outputs = ", ".join(f"{v}::text" if is_json else v for v, is_json in zip(names, jsonb, strict=True))
    sql = (
        f"SELECT GROUPING({', '.join(names)}), {outputs} FROM (SELECT {inner} FROM {ACCOUNT_TABLE} a WHERE {where}) a "  # noqa: S608  # nosec B608  # SQL from model tables, whitelisted field names and constants; values are parameters
        f"GROUP BY GROUPING SETS ({', '.join(f'({v})' for v in names)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params + where_params)
        found = cursor.fetchall()
    values: dict[str, list] = {attribute: [] for attribute in attributes}
    last = len(attributes) - 1
    for grouping, *row in found:
        # GROUPING() sets the bit of each expression the row's set does not group by; the first is the highest bit.
        number = next(n for n in range(len(attributes)) if not grouping & (1 << (last - n)))
        value = row[number]
        if value is not None:
            values[attributes[number]].append((value, json.loads(value) if jsonb[number] else value))
    return values


def match_sql(criterion: Criterion, distinct: dict[str, list]) -> tuple[str, list]:
    expr, params, sql_type = _attribute_sql(criterion.attribute)
    if _direct(criterion):
        if criterion.operator == "between":
            low, high = (float(v) for v in criterion.value)
            return f"({expr}::float8 >= %s AND {expr}::float8 <= %s)", [low, high]
        sign = ">=" if criterion.operator == "gte" else "<="
        return f"({expr}::float8 {sign} %s)", [float(criterion.value)]
    matched = [
        raw
        for raw, value in distinct.get(criterion.attribute, [])
        if criterion_matches(criterion, {criterion.attribute: value})
    ]
    parts, out = [], []
    if matched:
        cast = "::text[]::jsonb[]" if sql_type == "jsonb" else f"::{sql_type}[]"
        parts.append(f"{expr} = ANY(%s{cast})")
        out += params + [matched]
    if criterion_matches(criterion, {}):  # a missing value matches (neq, not_in)
        parts.append(f"{expr} IS NULL")
        out += params
    return ("(" + " OR ".join(parts) + ")") if parts else "FALSE", out
