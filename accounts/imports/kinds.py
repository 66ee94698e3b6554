"""What a kind of import is (its fields, how it resolves references and writes rows: upsert by key, so a re-run
changes nothing) and the registry of kinds. The kinds themselves: account_kind.py, activity_kinds.py and, for
people, territories/imports.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..changes import accounts_changed
from ..models import Account, Contact, Signal
from . import fields as f
from .fields import Field
from .refs import Unresolved


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    extra: dict[str, str] = field(default_factory=dict)  # unmapped columns (accounts keep them in `attributes`)
    error: str | None = None
    refs: dict[str, int] = field(default_factory=dict)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def apply_values(obj, values: dict[str, Any]) -> list[str]:
    """Set changed values on `obj`; return the names of the fields that changed."""
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


class Changes:
    """The rows one chunk creates and updates, counted as they are decided and written together."""

    def __init__(self, model) -> None:
        self.model = model
        self.created: list = []
        self.updated: list = []
        self.fields: set[str] = set()
        self.counts = Counts()

    def create(self, obj):
        self.created.append(obj)
        self.counts.created += 1
        return obj

    def update(self, obj, values: dict[str, Any]) -> list[str]:
        changed = apply_values(obj, values)
        if changed:
            self.updated.append(obj)
            self.fields.update(changed)
            self.counts.updated += 1
        else:
            self.counts.unchanged += 1
        return changed

    def save(self, *, dry_run: bool) -> Counts:
        if not dry_run:
            self.model.objects.bulk_create(self.created, batch_size=1000)
            if self.updated:
                stamp = {"updated_at"} if any(f.name == "updated_at" for f in self.model._meta.fields) else set()
                self.model.objects.bulk_update(self.updated, sorted(self.fields | stamp), batch_size=1000)
            if self.model in (Account, Contact, Signal):
                attribute = "pk" if self.model is Account else "account_id"
                accounts_changed(getattr(obj, attribute) for obj in self.created + self.updated)
        return self.counts


class KindImporter:
    kind: ClassVar[str]
    fields: ClassVar[dict[str, Field]]
    keeps_extra_columns: ClassVar[bool] = False
    # The fields that identify a row for re-imports: a file must map at least one of them (none: no such rule).
    key_fields: ClassVar[tuple[str, ...]] = ()
    noun: ClassVar[str] = "row"  # what one row is, in words ("account")
    # Other column names that mean a field, for guessing the mapping (see imports.auto_mapping).
    synonyms: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.deferred_errors: list[tuple[int, str]] = []

    def keys(self, row: Row) -> list[tuple]:
        """Keys that must be unique within one file; raise FieldError when the row has none."""
        return []

    def resolve(self, rows: list[Row], *, dry_run: bool) -> None:
        """Turn references into ids for a batch of rows, setting `row.error` where one cannot be resolved."""

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        raise NotImplementedError

    def finish(self, *, dry_run: bool) -> None:
        """Work that needs every row written first (e.g. parent accounts)."""

    # helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def _resolve_into(rows: list[Row], field_name: str, resolved: dict, *, target: str, key=None) -> None:
        for row in rows:
            if row.error or field_name not in row.values or row.values[field_name] is None:
                continue
            ref = row.values[field_name] if key is None else key(row)
            value = resolved.get(ref)
            if isinstance(value, Unresolved) or value is None:
                row.error = f"{field_name}: {value or 'not found'}"
            else:
                row.refs[target] = value


def account_ref(raw: Any) -> int | str | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return f.reference(raw)


def split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


IMPORTERS: dict[str, type[KindImporter]] = {}


def importer_register(importer: type[KindImporter]) -> type[KindImporter]:
    """Make a kind of import available to the command, the upload page and the API batches. This app registers
    accounts, contacts, signals and opportunities; territories registers users (people and their territories)."""
    IMPORTERS[importer.kind] = importer
    return importer


def import_kinds() -> tuple[str, ...]:
    return tuple(IMPORTERS)
