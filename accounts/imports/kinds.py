"""What each kind of import accepts and how it is written: upsert by key, so a re-run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..changes import accounts_changed, owners_changed
from ..models import Account, Contact, Opportunity, Signal
from . import fields as f
from .fields import Field
from .refs import Unresolved, resolve_accounts, resolve_contacts, resolve_territories, resolve_users


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


def _account_ref(raw: Any) -> int | str | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    return f.reference(raw)


def split_name(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first[:150], last.strip()[:150]


class AccountImporter(KindImporter):
    kind = "accounts"
    keeps_extra_columns = True
    fields = {
        x.name: x
        for x in [
            Field("name", f.text(255), required=True),
            Field("external_id", f.text(255), help="unique key for re-imports"),
            Field("domain", f.domain, help="normalised: example.com"),
            Field("industry", f.text(120)),
            Field("employee_count", f.whole_number()),
            Field("annual_revenue", f.decimal_number(), help="USD"),
            Field("annual_revenue_millions", f.decimal_number(scale=1_000_000), help="USD millions, stored in USD"),
            Field("country", f.text(120)),
            Field("region", f.text(120)),
            Field("city", f.text(120)),
            Field("year_founded", f.whole_number(1000, 2100)),
            Field("technologies", f.string_list, help="separated by ; or |, or a JSON list"),
            Field("parent", f.reference, help="the parent's external_id, domain or name"),
            Field("is_customer", f.boolean),
            Field("owner", f.reference, help="username or full name"),
            Field("territory", f.reference, help="territory name"),
        ]
    }

    def __init__(self) -> None:
        super().__init__()
        self.parents: list[tuple[int, int, str]] = []  # (line, account id, parent reference)
        # Accounts to route once committed: new or changed ones whose territory the file does not set.
        self.route_ids: list[int] = []
        self.owner_changed_ids: list[int] = []

    def keys(self, row: Row) -> list[tuple]:
        keys = []
        if row.values.get("external_id"):
            keys.append(("external_id", row.values["external_id"]))
        if row.values.get("domain"):
            keys.append(("domain", row.values["domain"]))
        if not keys:
            raise f.FieldError("needs an external_id or a domain, so that re-importing it updates the same account")
        return keys

    def resolve(self, rows: list[Row], *, dry_run: bool) -> None:
        owners = {r.values["owner"] for r in rows if not r.error and r.values.get("owner")}
        if owners:
            self._resolve_into(rows, "owner", resolve_users(owners), target="owner_id")
        territories = {r.values["territory"] for r in rows if not r.error and r.values.get("territory")}
        if territories:
            self._resolve_into(rows, "territory", resolve_territories(territories), target="territory_id")

    def _model_values(self, row: Row) -> dict[str, Any]:
        values = {
            k: v for k, v in row.values.items() if k not in ("parent", "owner", "territory", "annual_revenue_millions")
        }
        if "annual_revenue_millions" in row.values:
            values["annual_revenue"] = row.values["annual_revenue_millions"]
        for name in ("industry", "country", "region", "city"):
            if name in values and values[name] is None:
                values[name] = ""
        if values.get("technologies", 0) is None:
            values["technologies"] = []
        if values.get("is_customer", 0) is None:
            values["is_customer"] = False
        if "owner" in row.values:
            values["owner_id"] = row.refs.get("owner_id")
        if "territory" in row.values:
            values["territory_id"] = row.refs.get("territory_id")
        return values

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        external_ids = {r.values["external_id"] for r in rows if r.values.get("external_id")}
        domains = {r.values["domain"] for r in rows if r.values.get("domain")}
        by_external = {a.external_id: a for a in Account.objects.filter(external_id__in=external_ids)}
        by_domain = {a.domain: a for a in Account.objects.filter(domain__in=domains)}
        changes = Changes(Account)
        new_rows = []
        for row in rows:
            external_id, dom = row.values.get("external_id"), row.values.get("domain")
            account = by_external.get(external_id) if external_id else None
            other = by_domain.get(dom) if dom else None
            if account is None and other is not None:
                if external_id and other.external_id and other.external_id != external_id:
                    row.error = f"domain {dom!r} already belongs to account {other.external_id!r} ({other.name})"
                    continue
                account = other
            elif account is not None and other is not None and other.pk != account.pk:
                row.error = f"domain {dom!r} already belongs to another account ({other.name})"
                continue
            values = self._model_values(row)
            if row.extra:
                base = dict(account.attributes) if account else {}
                values["attributes"] = {**base, **row.extra}
            if account is None:
                account = changes.create(Account(**values))
                new_rows.append((row, account))
                if external_id:
                    by_external[external_id] = account
                if dom:
                    by_domain[dom] = account
                continue
            changed = changes.update(account, values)
            if changed and "territory" not in row.values:
                self.route_ids.append(account.pk)
            if "owner_id" in changed:
                self.owner_changed_ids.append(account.pk)
            if row.values.get("parent"):
                self.parents.append((row.line, account.pk, row.values["parent"]))
        counts = changes.save(dry_run=dry_run)
        if not dry_run:
            owners_changed(self.owner_changed_ids)  # their pending handoffs follow them
            self.owner_changed_ids = []
            self.route_ids.extend(a.pk for row, a in new_rows if "territory" not in row.values)
        for row, account in new_rows:
            if row.values.get("parent"):
                self.parents.append((row.line, account.pk, row.values["parent"]))
        return counts

    def finish(self, *, dry_run: bool) -> None:
        """Parents are linked once every account of the file exists, so order in the file does not matter."""
        if not self.parents:
            return
        resolved = resolve_accounts({ref for _, _, ref in self.parents})
        linked = 0
        by_id = {a.pk: a for a in Account.objects.filter(pk__in=[pk for _, pk, _ in self.parents if pk])}
        changed = []
        for line, pk, ref in self.parents:
            parent_id = resolved.get(ref)
            if isinstance(parent_id, Unresolved) or parent_id is None:
                self.deferred_errors.append((line, f"parent: {parent_id}; the account was imported without a parent"))
                continue
            account = by_id.get(pk)
            if account is None:  # a dry run did not create it
                continue
            if parent_id == account.pk:
                self.deferred_errors.append((line, "parent: an account cannot be its own parent"))
                continue
            if account.parent_id != parent_id:
                account.parent_id = parent_id
                changed.append(account)
                linked += 1
        if changed and not dry_run:
            Account.objects.bulk_update(changed, ["parent", "updated_at"], batch_size=1000)
        if linked:
            self.notes.append(f"{linked} accounts linked to their parent account.")


class ContactImporter(KindImporter):
    kind = "contacts"
    fields = {
        x.name: x
        for x in [
            Field("account", _account_ref, required=True, help="the account's external_id, domain or name"),
            Field("external_id", f.text(255)),
            Field("name", f.text(255), required=True),
            Field("email", f.email),
            Field("title", f.text(255)),
            Field("persona", f.choice(tuple(Contact.Persona.values), default=Contact.Persona.OTHER)),
        ]
    }

    def keys(self, row: Row) -> list[tuple]:
        keys = []
        if row.values.get("external_id"):
            keys.append(("external_id", row.values["external_id"]))
        if row.values.get("email"):
            keys.append(("email", row.values["account"], row.values["email"]))
        if not keys:
            raise f.FieldError("needs an external_id or an email, so that re-importing it updates the same contact")
        return keys

    def resolve(self, rows: list[Row], *, dry_run: bool) -> None:
        refs = {r.values["account"] for r in rows if not r.error}
        self._resolve_into(rows, "account", resolve_accounts(refs), target="account_id")

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        external_ids = {r.values["external_id"] for r in rows if r.values.get("external_id")}
        pairs = {(r.refs["account_id"], r.values["email"]) for r in rows if r.values.get("email")}
        existing = list(Contact.objects.filter(external_id__in=external_ids)) + list(
            Contact.objects.filter(account_id__in={a for a, _ in pairs}, email__in={e for _, e in pairs})
        )
        by_external = {c.external_id: c for c in existing if c.external_id}
        by_email = {(c.account_id, c.email): c for c in existing if c.email}
        changes = Changes(Contact)
        for row in rows:
            values = {k: v for k, v in row.values.items() if k != "account"}
            values["account_id"] = row.refs["account_id"]
            if values.get("title", 0) is None:
                values["title"] = ""
            contact = by_external.get(values.get("external_id")) if values.get("external_id") else None
            by_mail = by_email.get((values["account_id"], values.get("email"))) if values.get("email") else None
            if contact is None:
                contact = by_mail
            elif by_mail is not None and by_mail.pk != contact.pk:
                row.error = f"email {values['email']!r} already belongs to another contact of this account"
                continue
            if contact is None:
                contact = changes.create(Contact(**values))
                if values.get("external_id"):
                    by_external[values["external_id"]] = contact
                if values.get("email"):
                    by_email[(values["account_id"], values["email"])] = contact
                continue
            changes.update(contact, values)
        return changes.save(dry_run=dry_run)


class SignalImporter(KindImporter):
    kind = "signals"
    fields = {
        x.name: x
        for x in [
            Field("account", _account_ref, required=True, help="the account's external_id, domain or name"),
            Field("contact", _account_ref, help="the contact's external_id or email"),
            Field("kind", f.signal_kind, required=True, help="e.g. web_visit, meeting, intent_surge"),
            Field("topic", f.text(120)),
            Field("occurred_at", f.datetime_value, required=True, help="ISO 8601; UTC when no zone is given"),
            Field("source", f.text(120)),
            Field("external_id", f.text(255), help="dedupe key"),
        ]
    }
    NATURAL = ("kind", "occurred_at", "topic", "contact_id")

    def keys(self, row: Row) -> list[tuple]:
        v = row.values
        if v.get("external_id"):
            return [("external_id", v["external_id"])]
        return [("event", v["account"], v["kind"], v["occurred_at"], v.get("topic"), v.get("contact"))]

    def resolve(self, rows: list[Row], *, dry_run: bool) -> None:
        refs = {r.values["account"] for r in rows if not r.error}
        self._resolve_into(rows, "account", resolve_accounts(refs), target="account_id")
        pairs = {(r.refs["account_id"], r.values["contact"]) for r in rows if not r.error and r.values.get("contact")}
        if pairs:
            self._resolve_into(
                rows,
                "contact",
                resolve_contacts(pairs),
                target="contact_id",
                key=lambda r: (r.refs["account_id"], r.values["contact"]),
            )

    def _values(self, row: Row) -> dict[str, Any]:
        values = {k: v for k, v in row.values.items() if k not in ("account", "contact")}
        values["account_id"] = row.refs["account_id"]
        values["contact_id"] = row.refs.get("contact_id")
        for name in ("topic", "source"):
            if values.get(name) is None:
                values[name] = ""
        return values

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        prepared = [(row, self._values(row)) for row in rows]
        external_ids = {v["external_id"] for _, v in prepared if v.get("external_id")}
        by_external = {s.external_id: s for s in Signal.objects.filter(external_id__in=external_ids)}
        keyless = [v for _, v in prepared if not v.get("external_id")]
        events: set[tuple] = set()
        if keyless:
            # Without an external_id an event is the same event when its account, kind, time, topic and contact match.
            found = Signal.objects.filter(
                account_id__in={v["account_id"] for v in keyless},
                occurred_at__in={v["occurred_at"] for v in keyless},
                external_id__isnull=True,
            ).values_list("account_id", *self.NATURAL)
            events = set(found)
        changes = Changes(Signal)
        for _row, values in prepared:
            if values.get("external_id"):
                signal = by_external.get(values["external_id"])
                if signal is None:
                    by_external[values["external_id"]] = changes.create(Signal(**values))
                else:
                    changes.update(signal, values)
                continue
            event = (values["account_id"], *(values.get(n) for n in self.NATURAL))
            if event in events:
                changes.counts.unchanged += 1
                continue
            events.add(event)
            values.pop("external_id", None)
            changes.create(Signal(**values))
        return changes.save(dry_run=dry_run)


WON_STAGES = {"won", "closed won", "closed_won", "closedwon"}
LOST_STAGES = {"lost", "closed lost", "closed_lost", "closedlost"}


class OpportunityImporter(KindImporter):
    kind = "opportunities"
    fields = {
        x.name: x
        for x in [
            Field("external_id", f.text(255), required=True),
            Field("account", _account_ref, required=True, help="the account's external_id, domain or name"),
            Field("name", f.text(255)),
            Field("product", f.text(255)),
            Field("amount", f.decimal_number()),
            Field("stage", f.text(60), required=True, help="Won / Lost mean closed; anything else is open"),
            Field("is_closed", f.boolean),
            Field("is_won", f.boolean),
            Field("engaged_on", f.date_value),
            Field("closed_on", f.date_value),
            Field("owner", f.reference, help="username or full name"),
        ]
    }

    def keys(self, row: Row) -> list[tuple]:
        return [("external_id", row.values["external_id"])]

    def resolve(self, rows: list[Row], *, dry_run: bool) -> None:
        for row in rows:
            v = row.values
            stage = (v.get("stage") or "").lower()
            if v.get("is_won") is None:
                v["is_won"] = stage in WON_STAGES
            if v.get("is_closed") is None:
                v["is_closed"] = v["is_won"] or stage in LOST_STAGES
            if v["is_won"] and not v["is_closed"]:
                row.error = "is_won: a won opportunity must be closed"
            elif v.get("closed_on") and v.get("engaged_on") and v["closed_on"] < v["engaged_on"]:
                row.error = f"closed_on: {v['closed_on']} is before engaged_on {v['engaged_on']}"
        refs = {r.values["account"] for r in rows if not r.error}
        self._resolve_into(rows, "account", resolve_accounts(refs), target="account_id")
        owners = {r.values["owner"] for r in rows if not r.error and r.values.get("owner")}
        if owners:
            self._resolve_into(rows, "owner", resolve_users(owners), target="owner_id")

    def write(self, rows: list[Row], *, dry_run: bool) -> Counts:
        existing = {
            o.external_id: o
            for o in Opportunity.objects.filter(external_id__in={r.values["external_id"] for r in rows})
        }
        changes = Changes(Opportunity)
        for row in rows:
            values = {k: v for k, v in row.values.items() if k not in ("account", "owner")}
            values["account_id"] = row.refs["account_id"]
            if "owner" in row.values:
                values["owner_id"] = row.refs.get("owner_id")
            for name in ("name", "product"):
                if name in values and values[name] is None:
                    values[name] = ""
            opportunity = existing.get(values["external_id"])
            if opportunity is None:
                existing[values["external_id"]] = changes.create(Opportunity(**values))
            else:
                changes.update(opportunity, values)
        return changes.save(dry_run=dry_run)


IMPORTERS: dict[str, type[KindImporter]] = {}


def importer_register(importer: type[KindImporter]) -> type[KindImporter]:
    """Make a kind of import available to the command, the upload page and the API batches. This app registers
    accounts, contacts, signals and opportunities; territories registers users (people and their territories)."""
    IMPORTERS[importer.kind] = importer
    return importer


def import_kinds() -> tuple[str, ...]:
    return tuple(IMPORTERS)


for _importer in (AccountImporter, ContactImporter, SignalImporter, OpportunityImporter):
    importer_register(_importer)
