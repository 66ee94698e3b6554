"""The CRM sync: pull what changed in the CRM into the product, push scores, tiers, owners and handoff statuses back.

It knows the vendors only through the contract (adapter.py) and the registry (vendors.VENDORS).

Pull, object by object (companies first, so contacts, deals and activities find their account): page by page from
the CRM, never holding more than a batch (PULL_BATCH records): each batch mapped (mapping.py) and upserted through
the product's importer (validation, matching, rescore and routing queues as for any import), then linked by CRM id
(CrmLink), and the object's watermark moved to the batch's last record, all in one transaction. An interrupted
sync resumes from the last committed batch: the records at the watermark's time come again and are upserted again
(changing nothing), except the last one, which is known; nothing is lost, nothing doubled. Records the product
refuses are reported in the job's result with the reason.

Push: the linked accounts' score, tier, owner e-mail and handoff status, where they differ from what the CRM holds
(as last pulled or pushed), through the adapter's batch writes. The first push of a connection waits for an admin to
see its diff and confirm it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.imports import import_records, reason_in_words
from accounts.models import Account, Contact, Opportunity, Signal
from core.jobs import job_progress
from core.models import Job
from handoffs.models import Handoff
from segmentation.models import MQA

from ..models import CrmConnection, CrmLink
from ..models.crm import PUSH_FIELDS
from . import mapping as m
from .adapter import OBJECTS, Adapter, CrmError, CrmRecord
from .demo import DEMO_URL, demo_server
from .vendors import VENDOR_LABELS, VENDOR_NOUNS, VENDORS

MODELS = {"account": Account, "contact": Contact, "opportunity": Opportunity, "activity": Signal}
ERRORS_KEPT = 1000
# Records upserted together, in one transaction with their watermark: several of the CRM's pages (the importer's
# per-batch work, matching above all, costs less in fewer, larger batches); memory stays bounded by it.
PULL_BATCH = 1000
PUSH_CHUNK = 500
PUSH_LABELS = {"score": "Score", "tier": "Tier", "owner": "Owner e-mail", "handoff_status": "Handoff status"}
Out = Callable[[str], None]


def adapter_for(connection: CrmConnection, *, extra_fields: dict | None = None) -> Adapter:
    """The connection's adapter, with its credentials; refreshed tokens are stored (encrypted) as they come."""
    factory = VENDORS.get(connection.vendor)
    if factory is None:
        raise CrmError(f"No connector for {connection.get_vendor_display()} is installed yet.")
    values = {**(connection.settings or {}), **connection.credentials}
    if values.get("base_url") == DEMO_URL:
        values.update(demo_server().settings())
    values["extra_fields"] = extra_fields if extra_fields is not None else wanted_fields(connection)

    def on_tokens(tokens: dict) -> None:
        connection_tokens_store(connection=connection, tokens=tokens)

    return factory(values, on_tokens)


def connection_tokens_store(*, connection: CrmConnection, tokens: dict) -> None:
    """New OAuth tokens, stored encrypted at once (not with the page being synced: a failed page keeps them)."""
    with transaction.atomic():
        locked = CrmConnection.objects.select_for_update().get(pk=connection.pk)
        locked.credentials_set({**locked.credentials, **tokens})
        locked.save(update_fields=["credentials_encrypted", "updated_at"])
    connection.credentials_encrypted = locked.credentials_encrypted


def wanted_fields(connection: CrmConnection) -> dict[str, list[str]]:
    """The CRM fields a pull reads, per object: the saved mappings' and, for companies, the push fields."""
    wanted = {}
    for obj in OBJECTS:
        saved = (connection.settings.get("mapping") or {}).get(obj) or {}
        wanted[obj] = list((saved.get("fields") or {}).values()) + list(saved.get("attributes") or [])
    wanted["account"] += list(connection.push_field_names().values())
    return wanted


def mapping_for(connection: CrmConnection, obj: str, adapter: Adapter) -> dict:
    """The saved mapping of `obj`, or the one first proposed (from the CRM's fields) when none was saved."""
    saved = (connection.settings.get("mapping") or {}).get(obj)
    if saved:
        return saved
    fields = adapter.fields(obj)
    return {"fields": m.guess(obj, fields, getattr(adapter, "suggested", {}).get(obj)), "attributes": []}


@dataclass
class Tally:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@dataclass
class Report:
    pulled: dict[str, Tally] = field(default_factory=dict)
    pushed: int = 0
    push_failed: int = 0
    push_waiting: bool = False
    errors: list[list[str]] = field(default_factory=list)  # [what, reason]
    error_count: int = 0
    notes: list[str] = field(default_factory=list)

    def error(self, what: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append([what, reason])

    def as_dict(self) -> dict:
        summary = {}
        for obj, tally in self.pulled.items():
            noun = m.PLURAL[obj]
            summary[f"{noun} read"] = tally.read
            summary[f"{noun} created"] = tally.created
            summary[f"{noun} updated"] = tally.updated
            summary[f"{noun} refused"] = tally.failed
        if self.pushed or self.push_failed:
            summary["records pushed"] = self.pushed
            summary["records the CRM refused"] = self.push_failed
        return {
            "summary": summary,
            "pulled": {obj: tally.as_dict() for obj, tally in self.pulled.items()},
            "pushed": self.pushed,
            "push_failed": self.push_failed,
            "push_waiting": self.push_waiting,
            "errors": self.errors,
            "error_count": self.error_count,
            "notes": self.notes,
        }


class _Progress:
    def __init__(self, job: Job | None) -> None:
        self.job = job
        self.done = 0
        self.total = 0
        self.saved_at = 0.0

    def add_total(self, n: int) -> None:
        self.total += n

    def step(self, n: int) -> None:
        self.done += n
        self.total = max(self.total, self.done)
        if self.job is not None:
            job_progress(job=self.job, done=self.done, total=self.total or None)


def _what(connection: CrmConnection, obj: str, crm_id: str) -> str:
    noun = VENDOR_NOUNS.get(connection.vendor, {}).get(obj, m.NOUN[obj])
    return f"{VENDOR_LABELS.get(connection.vendor, connection.vendor)} {noun} {crm_id}"


def pull(
    connection: CrmConnection,
    adapter: Adapter,
    report: Report,
    *,
    objects: list[str] | None = None,
    job: Job | None = None,
    dry_run: bool = False,
    out: Out | None = None,
) -> None:
    progress = _Progress(job)
    batch_size = int(connection.settings.get("pull_batch") or PULL_BATCH)
    for obj in objects or connection.enabled_objects():
        tally = report.pulled.setdefault(obj, Tally())
        mapping = mapping_for(connection, obj, adapter)
        since, last_id = connection.watermark(obj)
        cursor = None
        first = True
        buffered: list[CrmRecord] = []

        def commit(buffered=buffered, obj=obj, mapping=mapping, tally=tally) -> None:
            if buffered:
                _pull_page(connection, obj, buffered, mapping, tally, report, dry_run=dry_run)
                progress.step(len(buffered))
                buffered.clear()
                if out:
                    out(f"{m.PLURAL[obj]}: {tally.read} read, {tally.created} created, {tally.updated} updated")

        while True:
            try:
                page = adapter.changed(obj, since, cursor)
            except CrmError:
                commit()  # what came before the failure is kept: the next sync resumes after it
                raise
            if first and getattr(page, "total", None):
                progress.add_total(page.total)
            first = False
            buffered.extend(r for r in page.records if not (since and r.modified_at == since and r.crm_id == last_id))
            if len(buffered) >= batch_size:
                commit()
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        commit()


def _pull_page(
    connection: CrmConnection, obj: str, records: list[CrmRecord], mapping: dict, tally: Tally, report: Report, *,
    dry_run: bool,
) -> None:  # fmt: skip
    """One batch of records, in one transaction: upserted through the importer, linked, and the watermark moved
    past the last one."""
    source = VENDOR_LABELS.get(connection.vendor, connection.vendor)
    with transaction.atomic():
        account_ids = {}
        if obj != "account":
            wanted = {r.account_crm_id for r in records if r.account_crm_id}
            account_ids = dict(
                CrmLink.objects.filter(connection=connection, object_kind="account", crm_id__in=wanted).values_list(
                    "crm_id", "object_id"
                )
            )
        batch: list[CrmRecord] = []
        rows: list[dict] = []
        for record in records:
            tally.read += 1
            account_id = account_ids.get(record.account_crm_id) if obj != "account" else None
            if obj != "account" and account_id is None:
                tally.failed += 1
                why = (
                    f"its company ({record.account_crm_id}) is not synced: it was refused or is not in the sync yet"
                    if record.account_crm_id
                    else "it is not associated with a company"
                )
                report.error(_what(connection, obj, record.crm_id), f"Not imported: {why}.")
                continue
            batch.append(record)
            rows.append(m.convert(obj, record, mapping, account_id=account_id, source=source))
        if rows:
            result = import_records(kind=m.IMPORT_KIND[obj], records=rows, dry_run=dry_run)
            tally.created += result.created
            tally.updated += result.updated
            tally.unchanged += result.unchanged
            refused = set()
            for error in result.errors:
                record = batch[error.line - 1]
                refused.add(record.crm_id)
                report.error(_what(connection, obj, record.crm_id), reason_in_words(m.IMPORT_KIND[obj], error.reason))
            tally.failed += len(refused)
            if not dry_run:
                _link(connection, obj, [r for r in batch if r.crm_id not in refused])
        if not dry_run:
            last = records[-1]
            locked = CrmConnection.objects.select_for_update().get(pk=connection.pk)
            marks = dict(locked.watermarks or {})
            marks[obj] = {"modified_at": last.modified_at.isoformat(), "crm_id": last.crm_id}
            locked.watermarks = marks
            locked.save(update_fields=["watermarks", "updated_at"])
            connection.watermarks = marks


def _link(connection: CrmConnection, obj: str, records: list[CrmRecord]) -> None:
    """Each record's CrmLink to the product's object it was upserted into (by its external_id, the CRM id)."""
    if not records:
        return
    crm_ids = [r.crm_id for r in records]
    objects = dict(MODELS[obj].objects.filter(external_id__in=crm_ids).values_list("external_id", "pk"))
    existing = {
        link.crm_id: link for link in CrmLink.objects.filter(connection=connection, object_kind=obj, crm_id__in=crm_ids)
    }
    push_names = set(connection.push_field_names().values()) if obj == "account" else set()
    new, changed = [], []
    for record in records:
        object_id = objects.get(record.crm_id)
        if object_id is None:
            continue
        values = {k: _text(v) for k, v in record.fields.items() if k in push_names}
        link = existing.get(record.crm_id)
        if link is None:
            new.append(
                CrmLink(
                    connection=connection,
                    object_kind=obj,
                    crm_id=record.crm_id,
                    object_id=object_id,
                    crm_modified_at=record.modified_at,
                    crm_values=values,
                )
            )
            continue
        link.object_id, link.crm_modified_at, link.crm_values = object_id, record.modified_at, values
        changed.append(link)
    CrmLink.objects.bulk_create(new, batch_size=1000)
    if changed:
        CrmLink.objects.bulk_update(changed, ["object_id", "crm_modified_at", "crm_values"], batch_size=1000)


def _text(value) -> str:
    return "" if value is None else str(value)


# push ------------------------------------------------------------------------------------------------------------


@dataclass
class AccountChange:
    link: CrmLink
    account: Account
    changes: list[tuple[str, str, str, str]]  # (label, crm field, the CRM's value now, the new value)

    @property
    def values(self) -> dict[str, str]:
        return {crm: new for _label, crm, _old, new in self.changes}


def desired(connection: CrmConnection, accounts: list[Account]) -> dict[int, dict[str, str]]:
    """{account id: {CRM field: value}} as the product holds them now, for the connection's push fields."""
    names = connection.push_field_names()
    ids = [a.pk for a in accounts]
    statuses: dict[int, str] = {}
    if "handoff_status" in names:
        for account_id, status in (
            Handoff.objects.filter(account_id__in=ids).order_by("account_id", "-id").values_list("account_id", "status")
        ):
            statuses.setdefault(account_id, Handoff.Status(status).label)
        for account_id in MQA.objects.filter(account_id__in=ids, status=MQA.Status.OPEN).values_list(
            "account_id", flat=True
        ):
            statuses.setdefault(account_id, "MQA, not handed off yet")
    wanted = {}
    for account in accounts:
        score = getattr(account, "score", None) if _has_score(account) else None
        values = {
            "score": f"{score.unified:.1f}" if score else "",
            "tier": score.get_tier_display() if score else "",
            "owner": account.owner.email if account.owner_id and account.owner else "",
            "handoff_status": statuses.get(account.pk, ""),
        }
        wanted[account.pk] = {names[k]: values[k] for k in PUSH_FIELDS if k in names}
    return wanted


def _has_score(account: Account) -> bool:
    try:
        account.score  # noqa: B018
    except Exception:  # AccountScore.DoesNotExist: not scored yet
        return False
    return True


def push_changes(connection: CrmConnection, links: list[CrmLink]) -> list[AccountChange]:
    """The changes a push would make to these linked companies (only those with a difference)."""
    accounts = {
        a.pk: a
        for a in Account.objects.filter(pk__in=[link.object_id for link in links]).select_related("owner", "score")
    }
    wanted = desired(connection, list(accounts.values()))
    labels = {name: PUSH_LABELS[key] for key, name in connection.push_field_names().items()}
    found = []
    for link in links:
        account = accounts.get(link.object_id)
        if account is None:
            continue
        changes = [
            (labels[crm], crm, (link.crm_values or {}).get(crm, ""), new)
            for crm, new in wanted[account.pk].items()
            if (link.crm_values or {}).get(crm, "") != new
        ]
        found.append(AccountChange(link=link, account=account, changes=changes))
    return found


def account_links(connection: CrmConnection):
    return CrmLink.objects.filter(connection=connection, object_kind="account").order_by("pk")


def _link_chunks(connection: CrmConnection) -> Iterator[list[CrmLink]]:
    last = 0
    while True:
        chunk = list(account_links(connection).filter(pk__gt=last)[:PUSH_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def push(
    connection: CrmConnection, adapter: Adapter | None, report: Report, *, dry_run: bool = False, out: Out | None = None
) -> None:
    """Write the differences to the CRM, in the adapter's batches; `dry_run`: only say them."""
    for chunk in _link_chunks(connection):
        changed = [c for c in push_changes(connection, chunk) if c.changes]
        if dry_run:
            for change in changed:
                for label, crm, old, new in change.changes:
                    if out:
                        shown = f"{label} [{crm}] {old or '—'} -> {new or '—'}"
                        out(f"{change.account.name} ({change.link.crm_id}): {shown}")
                report.pushed += 1
            continue
        if not changed:
            continue
        result = adapter.push("account", [(c.link.crm_id, c.values) for c in changed])
        accepted = set(result.updated)
        by_id = {c.link.crm_id: c for c in changed}
        done = []
        for crm_id in accepted:
            change = by_id[crm_id]
            change.link.crm_values = {**(change.link.crm_values or {}), **change.values}
            done.append(change.link)
        CrmLink.objects.bulk_update(done, ["crm_values"], batch_size=1000)
        report.pushed += len(accepted)
        for error in result.errors:
            report.push_failed += 1
            change = by_id.get(error.crm_id)
            name = f" ({change.account.name})" if change else ""
            report.error(_what(connection, "account", error.crm_id) + name, f"Not updated in the CRM: {error.message}")
        if out:
            out(f"pushed {report.pushed}, refused {report.push_failed}")


# the whole sync ---------------------------------------------------------------------------------------------------


def run_sync(
    *,
    connection: CrmConnection,
    job: Job | None = None,
    do_pull: bool = True,
    do_push: bool = True,
    dry_run: bool = False,
    confirm_push: bool = False,
    out: Out | None = None,
) -> dict:
    """Pull then push, as the connection is set up. Raises CrmSyncError (with what was done so far) when the CRM
    fails as a whole; what was committed stays, and the next sync resumes from there."""
    report = Report()
    try:
        adapter = adapter_for(connection)
        if do_pull:
            pull(connection, adapter, report, job=job, dry_run=dry_run, out=out)
        if do_push and connection.push_enabled:
            if dry_run:
                push(connection, None, report, dry_run=True, out=out)
                report.notes.append(f"Dry run: {report.pushed:,} companies would be updated in the CRM.")
                report.pushed = 0
            elif connection.push_confirmed or confirm_push:
                if confirm_push and not connection.push_confirmed:
                    CrmConnection.objects.filter(pk=connection.pk).update(push_confirmed=True)
                    connection.push_confirmed = True
                push(connection, adapter, report, out=out)
            else:
                report.push_waiting = True
                report.notes.append(
                    "The first push waits for your confirmation: see the changes it would make on the connection's "
                    "page and confirm them."
                )
    except CrmError as exc:
        raise CrmSyncError(str(exc), report.as_dict()) from exc
    if dry_run:
        report.notes.insert(0, "Dry run: nothing was written.")
    CrmConnection.objects.filter(pk=connection.pk).update(settings=_stamped(connection))
    return report.as_dict()


def _stamped(connection: CrmConnection) -> dict:
    fresh = CrmConnection.objects.get(pk=connection.pk)
    settings = dict(fresh.settings or {})
    settings["last_synced_at"] = timezone.now().isoformat()
    return settings


class CrmSyncError(Exception):
    def __init__(self, message: str, result: dict) -> None:
        super().__init__(message)
        self.result = result


def resume_words(connection: CrmConnection) -> str:
    marks = []
    for obj in OBJECTS:
        when, _ = connection.watermark(obj)
        if when:
            marks.append(f"{m.PLURAL[obj]} changed since {when:%Y-%m-%d %H:%M:%S} UTC")
    if not marks:
        return "The next sync starts from the beginning."
    return "The next sync resumes from what was committed: " + "; ".join(marks) + "."


def since_words(when: dt.datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when else "never"
