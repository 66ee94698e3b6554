"""The audit trail: every change to the models that keep a history (ICPs, scoring models, plays, territories,
memberships, quotas, SLA policies: who, when, what changed), read from their history tables (django-simple-history)
for the admins' audit page. An app audits a model by giving it `history = HistoricalRecords()`; nothing here names
the apps.

Every change reads in the trade's words: the field's label, and its values as a person says them: yes/no,
numbers with separators, choices by their label, people by their full name, territories, accounts and versions by
their name, dates as dates. Values are shown whole. What only the app that owns a model knows (criteria in
sentences, signal rules, personas, working days, what to call a membership) that app hands down when it is ready,
through `audit_field` and `audit_name`, the way core/access.py is handed its coverage rule: core imports no app.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model, OuterRef, Q, Subquery
from django.utils.text import capfirst

KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
# Who changed a row is the history's own "who"; when, its "when": these fields would only repeat them.
HIDDEN_FIELDS = {"updated_at", "created_at", "updated_by", "created_by"}
EMPTY = "none"

Describe = Callable[[Any], "str | list[str]"]
NameOf = Callable[[Any, "Names"], str]


@dataclass(frozen=True)
class FieldWords:
    label: str | None = None
    describe: Describe | None = None
    empty: str | None = None


_fields: dict[tuple[str, str], FieldWords] = {}
_names: dict[str, NameOf] = {}


def audit_field(
    model: type[Model],
    name: str,
    *,
    label: str | None = None,
    describe: Describe | None = None,
    empty: str | None = None,
) -> None:
    """How the audit page shows a field of `model`: its label (else the field's verbose name), its value in words
    (describe(value) -> a text, or lines for a list such as criteria, shown as lines added and removed) and what
    an empty value means (else "none"), e.g. "no limit"."""
    _fields[(model._meta.label_lower, name)] = FieldWords(label=label, describe=describe, empty=empty)


def audit_name(model: type[Model], name_of: NameOf) -> None:
    """What the audit page calls a row of `model`: name_of(record, names) -> text (else str(row)). `names` gives the
    names of the rows its foreign keys point at, read in bulk for the page (names.of(field_name, record))."""
    _names[model._meta.label_lower] = name_of


def audited() -> list[tuple[str, type]]:
    """(label, model) of every model with a history, in the order of the apps and their models."""
    return [
        (capfirst(model._meta.verbose_name), model)
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]


@dataclass
class Change:
    """One field's change: `before` -> `after` for a value; lines `added` and `removed` for a list."""

    label: str
    before: str = ""
    after: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    is_list: bool = False
    reordered: bool = False


@dataclass
class Entry:
    at: object
    user: str
    label: str
    object_id: int
    name: str
    kind: str
    changes: list[Change]
    values: list[Change] = field(default_factory=list)  # a created row's values
    note: str = ""


def person(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


class Names:
    """The names of the rows that the page's records point at, read once per model for the whole page."""

    def __init__(self) -> None:
        self._wanted: dict[type[Model], set] = {}
        self._found: dict[type[Model], dict] = {}

    def want(self, model: type[Model], pk) -> None:
        if pk is not None:
            self._wanted.setdefault(model, set()).add(pk)

    def load(self) -> None:
        for model, pks in self._wanted.items():
            known = self._found.setdefault(model, {})
            missing = [pk for pk in pks if pk not in known]
            if missing:
                found = model._default_manager.in_bulk(missing)
                known.update({pk: found.get(pk) for pk in missing})  # None: deleted since
        self._wanted = {}

    def name(self, model: type[Model], pk) -> str:
        if pk is None:
            return EMPTY
        known = self._found.setdefault(model, {})
        if pk not in known:  # not asked for in advance: read on its own
            known[pk] = model._default_manager.filter(pk=pk).first()
        row = known[pk]
        if row is None:
            return f"{model._meta.verbose_name} #{pk} (deleted)"
        return person(row) if model is get_user_model() else str(row)

    def of(self, field_name: str, record) -> str:
        """The name of the row that `record`'s foreign key `field_name` points at."""
        target = record.instance_type._meta.get_field(field_name)
        return self.name(target.related_model, getattr(record, target.attname))


def _shown_fields(model: type[Model]) -> list:
    """The fields a person changes (editable, not bookkeeping), in the model's order."""
    return [f for f in model._meta.concrete_fields if f.editable and not f.primary_key and f.name not in HIDDEN_FIELDS]


def _label(model: type[Model], model_field) -> str:
    words = _fields.get((model._meta.label_lower, model_field.name))
    return (words.label if words and words.label else None) or capfirst(str(model_field.verbose_name))


def _number(value) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value != int(value):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _scalar(value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _words(model: type[Model], model_field, value, record, names: Names) -> str | list[str]:
    """A field's value as a person reads it: text, or lines for a list."""
    words = _fields.get((model._meta.label_lower, model_field.name))
    if value is None or value == "" or value == []:
        if isinstance(value, list) or isinstance(model_field.get_default(), list):
            return []
        return words.empty if words and words.empty else EMPTY
    if words and words.describe:
        return words.describe(value)
    if model_field.is_relation:
        return names.of(model_field.name, record)
    if model_field.choices and value not in (None, ""):
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, list | tuple):
        return [_scalar(v) for v in value]
    return _scalar(value)


def _list_change(label: str, before: list[str], after: list[str]) -> Change:
    was, now = Counter(before), Counter(after)
    removed = [line for line in before if (was - now)[line] > 0]
    added = [line for line in after if (now - was)[line] > 0]
    return Change(
        label=label, added=list(dict.fromkeys(added)), removed=list(dict.fromkeys(removed)), is_list=True,
        reordered=not added and not removed,
    )  # fmt: skip


def _as_lines(words: str | list[str]) -> list[str]:
    return words if isinstance(words, list) else ([] if words == EMPTY else [words])


def _changes(model: type[Model], record, previous, names: Names) -> list[Change]:
    if record.history_type != "~" or previous is None:
        return []
    changes = []
    for model_field in _shown_fields(model):
        old, new = getattr(previous, model_field.attname), getattr(record, model_field.attname)
        if old == new:
            continue
        label = _label(model, model_field)
        before = _words(model, model_field, old, previous, names)
        after = _words(model, model_field, new, record, names)
        if isinstance(before, list) or isinstance(after, list):
            changes.append(_list_change(label, _as_lines(before), _as_lines(after)))
        elif before != after:
            changes.append(Change(label=label, before=before, after=after))
    return changes


def _values(model: type[Model], record, names: Names) -> list[Change]:
    """A created row's values that say something (empty ones left out)."""
    values = []
    for model_field in _shown_fields(model):
        words = _words(model, model_field, getattr(record, model_field.attname), record, names)
        if isinstance(words, list):
            if words:
                values.append(Change(label=_label(model, model_field), added=words, is_list=True))
        elif words != EMPTY:
            values.append(Change(label=_label(model, model_field), after=words))
    return values


def _name(model: type[Model], record, names: Names) -> str:
    name_of = _names.get(model._meta.label_lower)
    return name_of(record, names) if name_of else str(record.instance)


def _previous_id(model: type[Model]) -> Subquery:
    """The history id of the record before each one of the same row (None for its first)."""
    history = model.history.model
    earlier = history.objects.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    return Subquery(earlier.order_by("-history_date", "-history_id").values("history_id")[:1])


def _want_names(model: type[Model], records: Iterable, names: Names) -> None:
    relations = [f for f in _shown_fields(model) if f.is_relation]
    relations += [f for f in model._meta.concrete_fields if f.is_relation and f not in relations]
    for record in records:
        if record is None:
            continue
        for relation in relations:
            names.want(relation.related_model, getattr(record, relation.attname))


def audit_entries(*, label: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Entry], bool]:
    """The latest changes, newest first, across the audited models (or the one with `label`); and whether there
    are more. Each model's history is read newest first and the streams are merged. A fixed number of queries per
    page: one per model for its records, two per model for the records before them, one per model named."""
    wanted = [(name, model) for name, model in audited() if not label or name == label]

    def stream(name: str, model: type[Model]):
        history = model.history.select_related("history_user").order_by("-history_date", "-history_id")
        # `name` and `model` are bound here, per model, not read when the merge finally runs.
        return ((-r.history_date.timestamp(), -r.history_id, name, model, r) for r in history[: offset + limit + 1])

    merged = heapq.merge(*(stream(name, model) for name, model in wanted), key=lambda item: item[:2])
    rows = [item for _, item in zip(range(offset + limit + 1), merged, strict=False)]
    page = [(name, model, record) for _, _, name, model, record in rows[offset : offset + limit]]

    # The record before each one on the page (what it changed from): two queries per model.
    previous: dict[tuple[type[Model], int], Any] = {}
    for model in {model for _, model, _ in page}:
        shown = [r.history_id for _, m, r in page if m is model and r.history_type == "~"]
        if not shown:
            continue
        linked = model.history.filter(history_id__in=shown).annotate(previous_id=_previous_id(model))
        links = dict(linked.values_list("history_id", "previous_id"))
        earlier = {r.history_id: r for r in model.history.filter(history_id__in=[p for p in links.values() if p])}
        for shown_id, previous_id in links.items():
            previous[(model, shown_id)] = earlier.get(previous_id)
    names = Names()
    for _, model, record in page:
        _want_names(model, [record, previous.get((model, record.history_id))], names)
    names.load()

    entries = []
    for name, model, record in page:
        before = previous.get((model, record.history_id))
        who = person(record.history_user)
        if not who and any(f.name == "updated_by" for f in model._meta.concrete_fields):
            who = names.of("updated_by", record) if record.updated_by_id else ""
        entries.append(
            Entry(
                at=record.history_date,
                user=who or "System",
                label=name,
                object_id=record.id,
                name=_name(model, record, names),
                kind=KINDS.get(record.history_type, record.history_type),
                changes=_changes(model, record, before, names),
                values=_values(model, record, names) if record.history_type == "+" else [],
                note=record.history_change_reason or "",
            )
        )
    return entries, len(rows) > offset + limit
