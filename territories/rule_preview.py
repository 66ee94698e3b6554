"""How many accounts a territory's rules would match, before they are saved (the territory form's preview).

The criterion language (accounts.criteria) decides what matches. To count at a million accounts without reading each
one into Python, each criterion on an account field is first said in SQL: a filter that selects at least the
accounts it matches, and exactly those for the common cases (numbers compared with numbers, yes/no fields, text
compared trimmed and in lower case with plain ASCII words). When every rule is said exactly, the database counts;
otherwise the accounts the SQL filter keeps are checked one by one with the criterion language itself, up to
SCAN_LIMIT of them (the preview then says it is partial).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.db.models.lookups import Exact, In

from accounts.criteria import (
    ACCOUNT_FIELDS,
    BOOLEAN,
    NUMBER,
    TEXT,
    VALUE_COLUMNS,
    Criterion,
    account_values,
    all_groups_match,
    as_number,
    criterion_from_dict,
)
from accounts.models import Account

SCAN_LIMIT = 50_000
EXAMPLES = 5


@dataclass
class RulePreview:
    """What a territory with these rules and named accounts would hold."""

    rules: int = 0  # how many criteria there are
    matched: int = 0  # accounts the rules match
    named: int = 0  # named accounts
    total: int = 0  # accounts the rules or the naming take (each once)
    examples: list[str] = field(default_factory=list)
    partial: bool = False  # only the first SCAN_LIMIT candidates were checked: `matched` is a lower bound
    scanned: int = 0


def _words(value: Any) -> str | None:
    """Text the SQL filter compares exactly as the criterion language does (trimmed, lower case), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text.isascii() or as_number(text) is not None:
        return None  # numbers written as text compare by value; non-ASCII case folding differs between databases
    return text.lower()


def _all_words(values: Any) -> list[str] | None:
    items = values if isinstance(values, list) else [values]
    words = [_words(v) for v in items]
    return None if not words or any(w is None for w in words) else words


def _numbers(values: Any) -> list[float] | None:
    items = values if isinstance(values, list) else [values]
    numbers = [as_number(v) for v in items]
    return None if not numbers or any(n is None for n in numbers) else numbers


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def criterion_q(criterion: Criterion) -> Q | None:
    """A filter selecting exactly the accounts the criterion matches, or None when it cannot be said in SQL."""
    name, op, value = criterion.attribute, criterion.operator, criterion.value
    kind = ACCOUNT_FIELDS.get(name)
    if kind is None:
        return None  # a key of `attributes`: read in Python
    if kind == TEXT:
        folded = Lower(Trim(name))
        present = Q(**{f"{name}__isnull": False}) & ~Q(Exact(Trim(name), ""))
        missing = Q(**{f"{name}__isnull": True}) | Q(Exact(Trim(name), ""))
        if op == "exists":
            return present
        if op == "contains":
            word = _words(value)
            return None if not word else present & Q(**{f"{name}__icontains": word})
        words = _all_words(value)
        if words is None:
            return None
        if op in ("eq", "in"):
            return present & Q(In(folded, words))
        if op in ("neq", "not_in"):
            return missing | ~Q(In(folded, words))
        return None
    if kind == NUMBER:
        present = Q(**{f"{name}__isnull": False})
        if op == "exists":
            return present
        numbers = _numbers(value)
        if numbers is None:
            return None
        if op in ("eq", "in"):
            return Q(**{f"{name}__in": numbers})
        if op in ("neq", "not_in"):
            return ~present | ~Q(**{f"{name}__in": numbers})
        if op == "gte":
            return Q(**{f"{name}__gte": numbers[0]})
        if op == "lte":
            return Q(**{f"{name}__lte": numbers[0]})
        if op == "between" and len(numbers) == 2:
            return Q(**{f"{name}__gte": numbers[0], f"{name}__lte": numbers[1]})
        return None
    if kind == BOOLEAN:
        if op == "exists":
            return Q()
        truth = _truth(value)
        if truth is None or op not in ("eq", "neq"):
            return None
        return Q(**{name: truth if op == "eq" else not truth})
    return None  # lists (technologies): read in Python


def rules_q(criteria: Iterable[Criterion]) -> tuple[Q, bool]:
    """(a filter selecting at least the accounts the rules match, whether it selects exactly those). Criteria of one
    group are alternatives; every group must match."""
    groups: dict[str, list[Q | None]] = {}
    for criterion in criteria:
        groups.setdefault(criterion.group_name, []).append(criterion_q(criterion))
    combined, exact = Q(), True
    for alternatives in groups.values():
        if any(q is None for q in alternatives):
            exact = False  # this group narrows nothing in SQL
            continue
        either = Q(pk__in=[])
        for q in alternatives:
            either |= q
        combined &= either
    return combined, exact


def rules_preview(*, criteria: list[Mapping[str, Any]], named_ids: Iterable[int] = ()) -> RulePreview:
    """How many accounts these (valid) rules and named accounts would take, with a few example names."""
    named = sorted({int(pk) for pk in named_ids})
    rules = [criterion_from_dict(c) for c in criteria]
    preview = RulePreview(rules=len(rules), named=len(named))
    matched_named: set[int] = set()
    if rules:
        q, exact = rules_q(rules)
        candidates = Account.objects.filter(q)
        if exact:
            preview.matched = candidates.count()
            preview.examples = list(candidates.order_by("name", "id").values_list("name", flat=True)[:EXAMPLES])
            if named:
                matched_named = set(candidates.filter(pk__in=named).values_list("pk", flat=True))
        else:
            named_set = set(named)
            for row in candidates.order_by("id").values(*VALUE_COLUMNS).iterator(chunk_size=2000):
                if preview.scanned >= SCAN_LIMIT:
                    preview.partial = True
                    break
                preview.scanned += 1
                if all_groups_match(rules, account_values(row)):
                    preview.matched += 1
                    if len(preview.examples) < EXAMPLES:
                        preview.examples.append(row["name"])
                    if row["id"] in named_set:
                        matched_named.add(row["id"])
    preview.total = preview.matched + len(named) - len(matched_named)
    if len(preview.examples) < EXAMPLES and named:
        others = Account.objects.filter(pk__in=named).exclude(pk__in=matched_named).order_by("name", "id")
        preview.examples += list(others.values_list("name", flat=True)[: EXAMPLES - len(preview.examples)])
    return preview
