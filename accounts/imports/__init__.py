"""The importer: CSV files (command, upload page) and API batches go through the same validation and upsert.

- The file is checked as a whole first (encoding, header, mapping); a bad file writes nothing.
- Each row is parsed and checked; a bad row is reported with its line number and reason and writes nothing.
- Good rows are upserted by key (external_id, domain, email...), in chunks, each chunk in one transaction:
  re-running the same import changes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction

from ..changes import accounts_changed
from ..criteria import COMPUTED_FIELDS, computed_field_message
from .account_kind import AccountImporter
from .activity_kinds import ContactImporter, OpportunityImporter, SignalImporter
from .fields import FieldError, is_blank
from .kinds import IMPORTERS, Counts, KindImporter, Row, import_kinds, importer_register
from .reader import ImportFileError, check_file, file_header, header_of, read_rows, sample_values
from .rejects import rejected_rows_write

__all__ = [
    "import_kinds",
    "importer_register",
    "ImportFileError",
    "ImportReport",
    "RowError",
    "auto_mapping",
    "check_file",
    "computed_columns",
    "computed_note",
    "field_labels",
    "file_header",
    "final_mapping",
    "guess_mapping",
    "header_of",
    "import_file",
    "import_records",
    "key_sentence",
    "kind_fields",
    "mapping_problems",
    "parse_mapping",
    "reason_in_words",
    "rejected_rows_write",
    "sample_values",
]

CHUNK_SIZE = 2000
Progress = Callable[[int, int], None]


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    kind: str
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Accounts matched to existing ones by domain or name (accounts/duplicates.py): (line, Match); a confident
    # match updated that account, a doubtful one was added and is reported here.
    matches: list[tuple[int, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed(self) -> int:
        return len({e.line for e in self.errors})

    @property
    def matched(self) -> int:
        return sum(1 for _, match in self.matches if match.confident)

    @property
    def possible_duplicates(self) -> int:
        return sum(1 for _, match in self.matches if not match.confident)

    def summary(self) -> dict[str, Any]:
        summary = {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }
        if self.kind == "accounts":
            summary.update(matched=self.matched, possible_duplicates=self.possible_duplicates)
        return summary

    def as_dict(self) -> dict[str, Any]:
        found = {
            "summary": self.summary(),
            "errors": [[e.line, e.reason] for e in self.errors],
            "notes": self.notes,
        }
        if self.kind == "accounts":
            found["matches"] = [
                [line, match.words(), match.confident, match.account.pk] for line, match in self.matches
            ]
        return found


def kind_fields(kind: str) -> dict:
    return IMPORTERS[_check_kind(kind)].fields


def _check_kind(kind: str) -> str:
    if kind not in IMPORTERS:
        raise ImportFileError(f"Unknown kind {kind!r}: use one of {', '.join(import_kinds())}.")
    return kind


def parse_mapping(pairs: Iterable[str]) -> dict[str, list[str]]:
    """['account=name,external_id', 'sector=industry'] -> {'account': ['name', 'external_id'], 'sector': [...]}."""
    mapping: dict[str, list[str]] = {}
    for pair in pairs:
        column, sep, targets = pair.partition("=")
        if not sep or not column.strip() or not targets.strip():
            raise ImportFileError(f"Mapping {pair!r} is not COLUMN=FIELD.")
        mapping[column.strip()] = [t.strip() for t in targets.split(",") if t.strip()]
    return mapping


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def auto_mapping(kind: str, header: list[str]) -> dict[str, list[str]]:
    """Columns whose name is a field's name (ignoring case, spaces and dashes) map to that field."""
    names = set(kind_fields(kind))
    return {column: [_normal(column)] for column in header if _normal(column) in names}


def _words(name: str) -> str:
    """A column name or a label as comparable words: "Company Name", "company-name", "COMPANY_NAME" -> company_name."""
    return "_".join(re.findall(r"[a-z0-9]+", name.lower()))


def computed_columns(kind: str, header: Iterable[str]) -> list[str]:
    """The columns of an accounts file named like a field the app computes (surging_topics, "Surging topics"): never
    imported, not even kept as attributes, since the computed field would hide them from every criterion."""
    if not IMPORTERS[_check_kind(kind)].keeps_extra_columns:
        return []
    return [column for column in header if _words(column) in COMPUTED_FIELDS]


def computed_note(columns: list[str]) -> str:
    fields = sorted({_words(column) for column in columns})
    shown = ", ".join(repr(column) for column in columns)
    return f"Not imported: {shown}. " + " ".join(computed_field_message(name) for name in fields)


def guess_mapping(kind: str, header: list[str]) -> dict[str, str]:
    """{field: column} as the upload page first proposes it: a column named like the field, its label or one of the
    names people give it ("Company Name", "Employees", "Website", "Sector"...). Each column fills one field at most,
    each field is filled from one column; a closer match wins (the name, then the label, then a synonym)."""
    importer = IMPORTERS[_check_kind(kind)]
    by_words = {}
    for column in header:
        by_words.setdefault(_words(column), column)
    passes = [
        lambda name, spec: [name],
        lambda name, spec: [_words(spec.title)],
        lambda name, spec: [_words(s) for s in importer.synonyms.get(name, ())],
    ]
    guessed: dict[str, str] = {}
    for candidates in passes:
        for name, spec in importer.fields.items():
            if name in guessed:
                continue
            for words in candidates(name, spec):
                column = by_words.get(words)
                if column is not None and column not in guessed.values():
                    guessed[name] = column
                    break
    return guessed


def field_labels(kind: str, names: Iterable[str]) -> str:
    """Fields by their labels, as a list in words: "Account ID or Domain"."""
    fields = kind_fields(kind)
    labels = [fields[n].title if n in fields else n for n in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _key_of(kind: str) -> tuple[tuple[str, ...], str]:
    """(the fields of which one must be mapped, what a row is), for `kind`."""
    importer = IMPORTERS[_check_kind(kind)]
    if kind == "users":
        return ("name", "username"), "person"
    return importer.key_fields, importer.noun


def key_sentence(kind: str) -> str:
    """What identifies a row of `kind`, for the mapping page ("Account ID or Domain identifies each account: ...")."""
    keys, noun = _key_of(kind)
    if not keys:
        return ""
    return f"{field_labels(kind, keys)} identifies each {noun}: choose a column for at least one."


def mapping_problems(kind: str, targets: list[str]) -> list[str]:
    """What is wrong with a mapping that fills `targets` (field names, one per column that fills it), in words: a
    field filled twice, a required field or the key not filled."""
    importer = IMPORTERS[_check_kind(kind)]
    fields = importer.fields
    problems = []
    twice = sorted({t for t in targets if targets.count(t) > 1}, key=list(fields).index)
    if twice:
        problems.append(f"More than one column is chosen for {field_labels(kind, twice).replace(' or ', ' and ')}.")
    missing = [name for name, spec in fields.items() if spec.required and name not in targets]
    if missing:
        problems.append(
            f"No column is chosen for {field_labels(kind, missing).replace(' or ', ' and ')}: "
            f"every {importer.noun} needs {'it' if len(missing) == 1 else 'them'}."
        )
    keys, noun = _key_of(kind)
    if keys and not any(k in targets for k in keys):
        problems.append(
            f"No column identifies each {noun}: choose the column for {field_labels(kind, keys)}, so that importing "
            f"the file again updates the same {noun}s instead of adding them twice."
        )
    return problems


def final_mapping(
    kind: str, header: list[str], mapping: dict[str, list[str]] | None, *, complete: bool = False
) -> dict[str, list[str]]:
    """The mapping a file is imported with: columns named like a field, then `mapping` ({column: [field, ...]}), which
    takes precedence. `complete`: `mapping` is the whole mapping (the upload page's, where the person saw and chose
    every field), nothing is added to it. Raises ImportFileError when it names what the file does not hold or leaves
    a required field or the key unfilled."""
    fields = kind_fields(kind)
    final = {} if complete else auto_mapping(kind, header)
    by_lower = {c.lower(): c for c in header}
    for column, targets in (mapping or {}).items():
        actual = by_lower.get(column.strip().lower())
        if actual is None:
            raise ImportFileError(
                f"The mapping names column {column!r}, which is not in the file (columns: {', '.join(header)})."
            )
        computed = [t for t in targets if t in COMPUTED_FIELDS]
        if computed:
            raise ImportFileError(
                f"Column {column!r} cannot be imported into {computed[0]}: {computed_field_message(computed[0])}"
            )
        unknown = [t for t in targets if t not in fields]
        if unknown:
            raise ImportFileError(f"Unknown field {unknown[0]!r} for {kind}; the fields are: {', '.join(fields)}.")
        final[actual] = list(targets)
    # A field filled by an explicit mapping is no longer filled by a same-named column.
    explicit = {t for c, ts in (mapping or {}).items() for t in ts}
    for column in list(final):
        if column.lower() not in {c.lower() for c in (mapping or {})}:
            final[column] = [t for t in final[column] if t not in explicit]
            if not final[column]:
                del final[column]
    problems = mapping_problems(kind, [t for ts in final.values() for t in ts])
    if problems:
        raise ImportFileError(" ".join(problems) + f" The file's columns: {', '.join(header)}.")
    return final


def reason_in_words(kind: str, reason: str) -> str:
    """A row's reason as a page shows it: fields by their labels ("Employees: 'lots' is not a whole number" for
    "employee_count: 'lots' is not a whole number"). The stored reasons name the fields, as the command line and the
    API do."""
    fields = IMPORTERS[kind].fields if kind in IMPORTERS else {}
    parts = []
    for part in reason.split("; "):
        name, sep, rest = part.partition(":")
        if sep and name in fields:
            part = f"{fields[name].title}:{rest}"
        else:
            name, sep, rest = part.partition(" is required but empty")
            if sep and name in fields:
                part = f"{fields[name].title} is required but empty"
            elif part.startswith("duplicate "):
                name, _, rest = part.removeprefix("duplicate ").partition(" ")
                if name in fields:
                    part = f"duplicate {fields[name].title} {rest}"
        parts.append(part)
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _parse_row(importer: KindImporter, line: int, raw: dict[str, Any], mapping: dict[str, list[str]] | None) -> Row:
    values: dict[str, Any] = {}
    extra: dict[str, str] = {}
    problems: list[str] = []
    items = raw.items() if mapping is None else ((t, raw[c]) for c, ts in mapping.items() for t in ts)
    for name, cell in items:
        spec = importer.fields.get(name)
        if spec is None:
            continue
        try:
            values[name] = spec.parse(cell)
        except FieldError as exc:
            problems.append(f"{name}: {exc}")
    for name, spec in importer.fields.items():
        if spec.required and values.get(name) is None and not any(p.startswith(f"{name}:") for p in problems):
            problems.append(f"{name} is required but empty")
    if mapping is not None and importer.keeps_extra_columns:
        mapped = set(mapping)
        extra = {
            c: v.strip()
            for c, v in raw.items()
            if c not in mapped and not is_blank(v) and _words(c) not in COMPUTED_FIELDS
        }
    elif mapping is None and importer.keeps_extra_columns and raw.get("attributes"):
        if isinstance(raw["attributes"], dict):
            extra = dict(raw["attributes"])  # an API record's attributes, kept as JSON values
            for name in sorted(set(COMPUTED_FIELDS) & set(extra)):
                problems.append(f"attributes.{name}: {computed_field_message(name)}")
        else:
            problems.append("attributes: send an object of names and values")
    if mapping is None and importer.keeps_extra_columns:
        problems.extend(f"{name}: {computed_field_message(name)}" for name in sorted(set(COMPUTED_FIELDS) & set(raw)))
    row = Row(line=line, values=values, extra=extra)
    if problems:
        row.error = "; ".join(problems)
    return row


TRANSIENT = ("40001", "40P01")  # serialization failure, deadlock detected: worth trying again
TRANSIENT_RETRIES = 4
TRANSIENT_PAUSE = 0.05  # seconds, doubled at each retry


def _transient(exc: DatabaseError) -> bool:
    return getattr(getattr(exc, "__cause__", None), "sqlstate", None) in TRANSIENT


def _reset(rows: list[Row]) -> None:
    for row in rows:
        row.error = None
        row.refs.clear()


def _database_reason(exc: DatabaseError) -> str:
    """Why the database refused a row, in words: a real conflict, a value it cannot store, or it was too busy."""
    if isinstance(exc, IntegrityError):
        return "conflicts with data already in the database"
    if _transient(exc):
        return "the database was too busy with other writes to take it: import it again"
    return "holds a value the database cannot store"


class _Run:
    def __init__(self, kind: str, *, dry_run: bool, progress: Progress | None, total: int, where: str) -> None:
        self.importer = IMPORTERS[_check_kind(kind)]()
        self.report = ImportReport(kind=kind, dry_run=dry_run)
        self.dry_run = dry_run
        self.progress = progress
        self.total = total
        self.seen: dict[tuple, int] = {}
        self.where = where

    def add(self, chunk: list[Row]) -> None:
        good: list[Row] = []
        for row in chunk:
            self.report.rows += 1
            if row.error is None:
                try:
                    keys = self.importer.keys(row)
                except FieldError as exc:
                    row.error = str(exc)
                    keys = []
                for key in keys:
                    first = self.seen.get(key)
                    if first is not None and row.error is None:
                        first_at = f"on line {first}" if self.where == "file" else f"at index {first - 1}"
                        row.error = f"duplicate {key[0]} {key[-1]!r} in this {self.where} (first {first_at})"
                for key in keys:
                    self.seen.setdefault(key, row.line)
            if row.error is None:
                good.append(row)
            else:
                self.report.errors.append(RowError(row.line, row.error))
        if good:
            self._write(good)
        if self.progress:
            self.progress(self.report.rows, self.total)

    def _write(self, rows: list[Row]) -> None:
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                with transaction.atomic():
                    self.importer.resolve(rows, dry_run=self.dry_run)
                    ok = [r for r in rows if r.error is None]
                    counts = self.importer.write(ok, dry_run=self.dry_run)
                    if self.dry_run:
                        transaction.set_rollback(True)
                break
            except DatabaseError as exc:
                if _transient(exc) and attempt < TRANSIENT_RETRIES:
                    # A deadlock or a serialization failure with a concurrent writer: nothing was written; the
                    # same rows are tried again, after a short and growing pause.
                    _reset(rows)
                    time.sleep(TRANSIENT_PAUSE * 2**attempt)
                    continue
                if len(rows) == 1:
                    rows[0].error = rows[0].error or _database_reason(exc)
                    self.report.errors.append(RowError(rows[0].line, rows[0].error))
                    return
                # Find the rows the database refused, one at a time; the others still go in.
                for row in rows:
                    _reset([row])
                    self._write([row])
                return
        for row in rows:
            if row.error is not None:
                self.report.errors.append(RowError(row.line, row.error))
        self._count(counts)

    def _count(self, counts: Counts) -> None:
        self.report.created += counts.created
        self.report.updated += counts.updated
        self.report.unchanged += counts.unchanged

    def finish(self) -> ImportReport:
        with transaction.atomic():
            self.importer.finish(dry_run=self.dry_run)
            if self.dry_run:
                transaction.set_rollback(True)
        self.report.errors.extend(RowError(line, reason) for line, reason in self.importer.deferred_errors)
        self.report.errors.sort(key=lambda e: e.line)
        to_route = getattr(self.importer, "route_ids", None)
        if to_route and not self.dry_run:
            # New and changed accounts are routed to their territory and owner as soon as they are committed.
            accounts_changed(to_route, route=True)
        self.report.notes.extend(self.importer.notes)
        failed = {e.line for e in self.report.errors}
        matches = getattr(self.importer, "matches", {})
        self.report.matches.extend((line, matches[line]) for line in sorted(matches) if line not in failed)
        if self.dry_run:
            self.report.notes.insert(0, "Dry run: nothing was written.")
        return self.report


def import_records(
    *, kind: str, records: Iterable[dict[str, Any]], dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Import already-structured records (field name -> value), e.g. from the API. Line = 1-based position."""
    records = list(records)
    run = _Run(kind, dry_run=dry_run, progress=progress, total=len(records), where="batch")
    for start in range(0, len(records), CHUNK_SIZE):
        chunk = records[start : start + CHUNK_SIZE]
        run.add([_parse_row(run.importer, start + i + 1, rec, None) for i, rec in enumerate(chunk)])
    return run.finish()


def import_file(
    *,
    kind: str,
    path: str | Path,
    mapping: dict[str, list[str]] | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    complete: bool = False,
) -> ImportReport:
    """Import a CSV file. Raises ImportFileError (and writes nothing) when the file as a whole is unusable.
    `complete`: `mapping` is the whole mapping (see final_mapping)."""
    _check_kind(kind)
    path = Path(path)
    header, total = check_file(path)
    final = final_mapping(kind, header, mapping, complete=complete)
    run = _Run(kind, dry_run=dry_run, progress=progress, total=total, where="file")
    computed = computed_columns(kind, [c for c in header if c not in final])
    if computed:
        run.report.notes.append(computed_note(computed))
    unmapped = [c for c in header if c not in final and c not in computed]
    if unmapped:
        where = "kept with each account, under their own names" if run.importer.keeps_extra_columns else "ignored"
        run.report.notes.append(f"Columns not mapped to a field ({where}): {', '.join(unmapped)}.")
    chunk: list[Row] = []
    for line, raw in read_rows(path, header):
        if isinstance(raw, str):
            row = Row(line=line, values={}, error=raw)
        else:
            row = _parse_row(run.importer, line, raw, final)
        chunk.append(row)
        if len(chunk) >= CHUNK_SIZE:
            run.add(chunk)
            chunk = []
    if chunk:
        run.add(chunk)
    return run.finish()


for _kind in (AccountImporter, ContactImporter, SignalImporter, OpportunityImporter):
    importer_register(_kind)
