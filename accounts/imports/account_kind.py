"""The accounts kind: companies upserted by external_id or domain, their parents linked once all are in."""

from __future__ import annotations

from typing import Any

from ..changes import owners_changed
from ..models import Account
from . import fields as f
from .fields import Field
from .kinds import Changes, Counts, KindImporter, Row
from .refs import Unresolved, resolve_accounts, resolve_territories, resolve_users


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
