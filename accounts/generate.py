"""Synthetic scale data: accounts, contacts and signals, deterministic for a seed, loaded in bulk.

Rows are generated in vectorised chunks (numpy) and streamed into the database: with PostgreSQL
through COPY, otherwise with executemany in batches. Memory stays bounded by the chunk size.
The same seed, batch size and reference time always give the same rows; dates run back from the reference time
(midnight UTC today by default).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from core.bulk import copy_rows

from .models import Account, Contact, Signal

INDUSTRIES = [
    "software",
    "fintech",
    "healthcare",
    "manufacturing",
    "retail",
    "logistics",
    "education",
    "media",
    "energy",
    "telecom",
]
COUNTRIES = [
    ("United States", ["California", "New York", "Texas", "Illinois", "Washington"], 0.55),
    ("United Kingdom", ["England", "Scotland"], 0.1),
    ("Germany", ["Bavaria", "Berlin", "Hesse"], 0.1),
    ("France", ["Ile-de-France", "Auvergne-Rhone-Alpes"], 0.08),
    ("Canada", ["Ontario", "Quebec", "British Columbia"], 0.07),
    ("Japan", ["Tokyo", "Osaka"], 0.05),
    ("Brazil", ["Sao Paulo", "Rio de Janeiro"], 0.05),
]
FUNDING_STAGES = ["bootstrapped", "seed", "series_a", "series_b", "growth", "public"]
FUNDING_JSON = [json.dumps({"funding_stage": stage}) for stage in FUNDING_STAGES]  # kept in `attributes`
TECHNOLOGIES = ["Salesforce", "HubSpot", "Snowflake", "AWS", "Azure", "Slack", "Zendesk", "Marketo"]
NAME_WORDS = [
    "Apex",
    "Blue",
    "Cedar",
    "Delta",
    "Echo",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Keystone",
    "Lumen",
]
NAME_SUFFIX = ["Systems", "Labs", "Group", "Holdings", "Technologies", "Partners", "Works", "Networks"]
PERSONAS = ["economic_buyer", "champion", "technical_evaluator", "user", "other"]
PERSONA_WEIGHTS = [0.15, 0.2, 0.2, 0.3, 0.15]
TITLES = {
    "economic_buyer": "VP Finance",
    "champion": "Director of Operations",
    "technical_evaluator": "Solutions Architect",
    "user": "Analyst",
    "other": "Office Manager",
}
FIRST = ["Ava", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira", "Liam"]
LAST = ["Novak", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Uddin", "Varga", "Weber"]
SIGNAL_KINDS = list(Signal.STANDARD_KINDS)
SIGNAL_WEIGHTS = [0.35, 0.12, 0.2, 0.05, 0.06, 0.08, 0.05, 0.02, 0.04, 0.03]
TOPICS = ["pricing", "integrations", "security", "analytics", "onboarding", "roi"]
LINKABLE_KINDS = {"web_visit", "content_download", "email_click", "event_attended", "meeting"}

Progress = Callable[[str, int, int], None]
BULK_INDEX_THRESHOLD = 200_000


class GenerateError(Exception):
    pass


@dataclass
class GenerateReport:
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def rate(self, table: str) -> float:
        return self.rows[table] / self.seconds[table] if self.seconds.get(table) else 0.0

    def as_dict(self) -> dict:
        return {
            "seed": self.seed,
            "rows": self.rows,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "rows_per_second": {k: round(self.rate(k)) for k in self.rows},
        }


def _rng(seed: int, table: int, chunk: int) -> np.random.Generator:
    # One independent stream per table and chunk: the same seed and batch size give the same rows.
    return np.random.default_rng([seed, table, chunk])


def _chunks(total: int, size: int) -> Iterator[tuple[int, int, int]]:
    for number, start in enumerate(range(0, total, size)):
        yield number, start, min(total, start + size)


def prefix(seed: int) -> str:
    return f"gen-{seed}-"


def account_rows(*, seed: int, start: int, stop: int, chunk: int, now: dt.datetime) -> list[tuple]:
    rng = _rng(seed, 1, chunk)
    n = stop - start
    idx = np.arange(start, stop)
    industry = rng.integers(0, len(INDUSTRIES), n)
    employees = np.clip(np.exp(rng.normal(5.5, 1.6, n)), 1, 400_000).astype(np.int64)
    revenue = (employees * rng.uniform(40_000, 400_000, n)).round(-3)
    country = rng.choice(len(COUNTRIES), n, p=[c[2] for c in COUNTRIES])
    region_pick = rng.integers(0, 1000, n)
    founded = rng.integers(1950, 2025, n)
    tech_mask = rng.integers(0, 256, n)
    customer = rng.random(n) < 0.05
    word = rng.integers(0, len(NAME_WORDS), n)
    suffix = rng.integers(0, len(NAME_SUFFIX), n)
    stage = rng.integers(0, len(FUNDING_STAGES), n)
    tech_json = [json.dumps([t for b, t in enumerate(TECHNOLOGIES) if m >> b & 1]) for m in range(256)]
    p = prefix(seed)
    rows = []
    for i, ind, emp, rev, c, r, year, mask, cust, w, s, st in zip(
        idx.tolist(), industry.tolist(), employees.tolist(), revenue.tolist(), country.tolist(), region_pick.tolist(),
        founded.tolist(), tech_mask.tolist(), customer.tolist(), word.tolist(), suffix.tolist(), stage.tolist(),
        strict=True,
    ):  # fmt: skip
        name, regions, _ = COUNTRIES[c]
        region = regions[r % len(regions)]
        rows.append(
            (
                f"{NAME_WORDS[w]} {NAME_SUFFIX[s]} {i}",
                f"gen{seed}-{i}.example",
                f"{p}{i}",
                INDUSTRIES[ind],
                emp,
                f"{rev:.2f}",
                name,
                region,
                f"{region} City",
                year,
                tech_json[mask],
                cust,
                FUNDING_JSON[st],
                now,
                now,
            )
        )
    return rows


ACCOUNT_COLUMNS = [
    "name", "domain", "external_id", "industry", "employee_count", "annual_revenue", "country", "region", "city",
    "year_founded", "technologies", "is_customer", "attributes", "created_at", "updated_at",
]  # fmt: skip
CONTACT_COLUMNS = ["account_id", "external_id", "name", "email", "title", "persona", "created_at", "updated_at"]
SIGNAL_COLUMNS = ["account_id", "contact_id", "kind", "topic", "occurred_at", "source", "created_at"]


def contact_rows(
    *, seed: int, start: int, stop: int, chunk: int, account_ids: np.ndarray, now: dt.datetime
) -> list[tuple]:
    """Contact i belongs to account i mod n_accounts, so an account's contacts are i, i+n, i+2n, ..."""
    rng = _rng(seed, 2, chunk)
    n = stop - start
    idx = np.arange(start, stop)
    persona = rng.choice(len(PERSONAS), n, p=PERSONA_WEIGHTS)
    first = rng.integers(0, len(FIRST), n)
    last = rng.integers(0, len(LAST), n)
    owners = account_ids[idx % len(account_ids)]
    p = prefix(seed)
    rows = []
    for i, account_id, per, f, la in zip(
        idx.tolist(), owners.tolist(), persona.tolist(), first.tolist(), last.tolist(), strict=True
    ):
        persona_name = PERSONAS[per]
        rows.append(
            (
                account_id,
                f"{p}c{i}",
                f"{FIRST[f]} {LAST[la]}",
                f"c{i}@gen{seed}.example",
                TITLES[persona_name],
                persona_name,
                now,
                now,
            )
        )
    return rows


def signal_rows(
    *,
    seed: int,
    start: int,
    stop: int,
    chunk: int,
    account_ids: np.ndarray,
    contact_ids: np.ndarray,
    now: dt.datetime,
) -> list[tuple]:
    rng = _rng(seed, 3, chunk)
    n = stop - start
    n_accounts = len(account_ids)
    n_contacts = len(contact_ids)
    # Engagement is skewed: a minority of accounts produce most signals.
    account_index = np.minimum((n_accounts * rng.random(n) ** 2).astype(np.int64), n_accounts - 1)
    kind = rng.choice(len(SIGNAL_KINDS), n, p=SIGNAL_WEIGHTS)
    topic = rng.integers(-len(TOPICS), len(TOPICS), n)  # negative: no topic
    age_seconds = rng.integers(0, 365 * 86400, n)
    link = rng.random(n) < 0.4
    # Account a has contacts a, a + n, a + 2n, ... below n_contacts.
    per_account = np.where(account_index < n_contacts, (n_contacts - 1 - account_index) // max(n_accounts, 1) + 1, 0)
    pick = (rng.random(n) * np.maximum(per_account, 1)).astype(np.int64)
    contact_index = account_index + pick * n_accounts
    ages = (np.datetime64(now.replace(tzinfo=None), "s") - age_seconds.astype("timedelta64[s]")).astype(dt.datetime)
    rows = []
    for a, k, t, age, lk, per, ci in zip(
        account_index.tolist(), kind.tolist(), topic.tolist(), ages.tolist(), link.tolist(), per_account.tolist(),
        contact_index.tolist(), strict=True,
    ):  # fmt: skip
        kind_name = SIGNAL_KINDS[k]
        contact = int(contact_ids[ci]) if lk and per and kind_name in LINKABLE_KINDS else None
        rows.append(
            (
                int(account_ids[a]),
                contact,
                kind_name,
                TOPICS[t] if t >= 0 else "",
                age.replace(tzinfo=dt.UTC),
                "synthetic",
                now,
            )
        )
    return rows


def _ids(model, *, seed: int, field_name: str = "external_id") -> np.ndarray:
    ids = (
        model.objects.filter(**{f"{field_name}__startswith": prefix(seed)})
        .order_by("id")
        .values_list("id", flat=True)
        .iterator(chunk_size=50_000)
    )
    return np.fromiter(ids, dtype=np.int64)


def generate_data(
    *,
    accounts: int,
    signals: int,
    contacts: int,
    seed: int,
    now: dt.datetime | None = None,
    batch: int = 50_000,
    progress: Progress | None = None,
) -> GenerateReport:
    """Load synthetic accounts, then contacts, then signals. Refuses a seed whose accounts already exist."""
    if min(accounts, signals, contacts) < 0 or batch < 1:
        raise GenerateError("Counts must be zero or more and the batch size at least 1.")
    if accounts == 0 and (signals or contacts):
        raise GenerateError("Contacts and signals need accounts: give --accounts.")
    if Account.objects.filter(external_id__startswith=prefix(seed)).exists():
        raise GenerateError(f"Data for seed {seed} is already loaded; use another --seed.")
    now = now or dt.datetime.combine(timezone.now().date(), dt.time.min, tzinfo=dt.UTC)
    report = GenerateReport(seed=seed)
    bulk = connection.vendor == "postgresql"

    def run(table: str, total: int, make, db_table: str, columns: list[str]) -> None:
        started = time.monotonic()
        done = 0
        for chunk, start, stop in _chunks(total, batch):
            rows = make(start=start, stop=stop, chunk=chunk)
            with transaction.atomic():
                if bulk:
                    with connection.cursor() as cursor:
                        # Generated rows reference only rows just loaded; skip per-row FK triggers when allowed.
                        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                        if cursor.fetchone()[0]:
                            cursor.execute("SET LOCAL session_replication_role = replica")
                copy_rows(db_table, columns, rows)
            done = stop
            if progress:
                progress(table, done, total)
        report.rows[table] = total
        report.seconds[table] = time.monotonic() - started

    # A large load into PostgreSQL runs in one transaction per table with the secondary (non-unique)
    # indexes dropped and rebuilt once at the end: several times faster than maintaining them row by row,
    # and a failure rolls the whole table's load back, indexes included.
    big = bulk and max(accounts, contacts, signals) >= BULK_INDEX_THRESHOLD

    def load(model, *args) -> None:
        if not big:
            run(*args)
            return
        with transaction.atomic(), connection.schema_editor(atomic=False) as editor:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for index in model._meta.indexes:
                editor.remove_index(model, index)
            run(*args)
            for index in model._meta.indexes:
                editor.add_index(model, index)

    load(
        Account,
        "accounts",
        accounts,
        lambda **k: account_rows(seed=seed, now=now, **k),
        Account._meta.db_table,
        ACCOUNT_COLUMNS,
    )
    account_ids = _ids(Account, seed=seed)
    load(
        Contact,
        "contacts",
        contacts,
        lambda **k: contact_rows(seed=seed, account_ids=account_ids, now=now, **k),
        Contact._meta.db_table,
        CONTACT_COLUMNS,
    )
    contact_ids = _ids(Contact, seed=seed)
    load(
        Signal,
        "signals",
        signals,
        lambda **k: signal_rows(seed=seed, account_ids=account_ids, contact_ids=contact_ids, now=now, **k),
        Signal._meta.db_table,
        SIGNAL_COLUMNS,
    )
    if bulk:
        # Fresh statistics for the planner; outside a transaction also VACUUM, which marks the new pages all-visible
        # so that the rescore reads the signals from their covering index alone (autovacuum would, later).
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in (Account, Contact, Signal):
                cursor.execute(f"{command} {model._meta.db_table}")
    return report
