"""The audit trail: every change to the models that keep a history (ICPs, scoring models, plays, territories,
memberships, quotas, SLA policies: who, when, what changed), read from their history tables (django-simple-history)
for the admins' audit page. An app audits a model by giving it `history = HistoricalRecords()`; nothing here names
the apps."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from django.apps import apps
from django.utils.text import capfirst

KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
HIDDEN_FIELDS = {"updated_at", "created_at"}


def audited() -> list[tuple[str, type]]:
    """(label, model) of every model with a history, in the order of the apps and their models."""
    return [
        (capfirst(model._meta.verbose_name), model)
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]


@dataclass
class Entry:
    at: object
    user: object
    label: str
    object_id: int
    name: str
    kind: str
    changes: list[str]


def _value(value) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _changes(record) -> list[str]:
    previous = record.prev_record
    if record.history_type != "~" or previous is None:
        return []
    delta = record.diff_against(previous)
    return [
        f"{change.field}: {_value(change.old)} -> {_value(change.new)}"
        for change in delta.changes
        if change.field not in HIDDEN_FIELDS
    ]


def audit_entries(*, label: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Entry], bool]:
    """The latest changes, newest first, across the audited models (or the one with `label`); and whether there
    are more. Each model's history is read newest first and the streams are merged."""
    wanted = [(name, model) for name, model in audited() if not label or name == label]
    streams = []
    for name, model in wanted:
        history = model.history.select_related("history_user").order_by("-history_date", "-history_id")
        streams.append((-r.history_date.timestamp(), name, r) for r in history[: offset + limit + 1])
    merged = heapq.merge(*streams, key=lambda item: item[0])
    rows = [item for _, item in zip(range(offset + limit + 1), merged, strict=False)]
    page = rows[offset : offset + limit]
    entries = [
        Entry(
            at=record.history_date,
            user=record.history_user,
            label=name,
            object_id=record.id,
            name=str(record.instance),
            kind=KINDS.get(record.history_type, record.history_type),
            changes=_changes(record),
        )
        for _, name, record in page
    ]
    return entries, len(rows) > offset + limit
