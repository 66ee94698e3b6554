"""The accounts kind: companies upserted by external_id or domain, their parents linked once all are in."""

from __future__ import annotations

from typing import Any

from ..changes import owners_changed
from ..duplicates import match_records, matched_values
from ..events import owner_changes_record
from ..matching import account_keys
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
            Field("name", f.text(255), required=True, help="the company's name"),
            Field("external_id", f.text(255), help="your CRM's id for the account: the key for re-imports"),
            Field("domain", f.domain, help="the website, kept as example.com; a key for re-imports too"),
            Field("industry", f.text(120)),
            Field("employee_count", f.whole_number(), help="a whole number"),
            Field("annual_revenue", f.decimal_number(), help="in USD"),
            Field(
                "annual_revenue_millions",
                f.decimal_number(scale=1_000_000),
                help="in millions of USD, kept in USD",
                label="Annual revenue (USD millions)",
            ),
            Field("country", f.text(120)),
            Field("region", f.text(120), help="region or state"),
            Field("city", f.text(120)),
            Field("year_founded", f.whole_number(1000, 2100)),
            Field("technologies", f.string_list, help="separated by ; or |"),
            Field("parent", f.reference, help="the parent's account ID, domain or name", label="Parent account"),
            Field("is_customer", f.boolean, help="yes or no", label="Customer"),
            Field("owner", f.reference, help="the owner's username or full name"),
            Field("territory", f.reference, help="the territory's name"),
        ]
    }
    key_fields = ("external_id", "domain")
    noun = "account"
    # Column names people give these fields (compared once lower-cased, with spaces, dashes and dots as "_").
    synonyms = {
        "name": ("company", "company_name", "account", "account_name", "organisation", "organization", "business"),
        "external_id": ("account_id", "id", "crm_id", "record_id", "customer_id", "company_id", "account_number"),
        "domain": ("website", "web_site", "url", "site", "web", "domain_name", "company_domain", "company_website"),
        "industry": ("sector", "vertical", "industry_name"),
        "employee_count": (
            "employees",
            "staff",
            "headcount",
            "head_count",
            "number_of_employees",
            "num_employees",
            "employee_number",
            "no_of_employees",
        ),  # fmt: skip
        "annual_revenue": ("revenue", "annual_revenue_usd", "revenue_usd", "turnover", "annual_sales"),
        "annual_revenue_millions": (
            "revenue_millions",
            "revenue_m",
            "revenue_mm",
            "revenue_musd",
            "revenue_in_millions",
            "annual_revenue_m",
        ),  # fmt: skip
        "country": ("nation", "hq_country", "country_name", "office_location", "headquarters_country"),
        "region": ("state", "province", "state_region", "county"),
        "city": ("town", "hq_city", "locality"),
        "year_founded": ("founded", "year_established", "established", "founded_year", "founding_year", "year"),
        "technologies": ("tech", "tech_stack", "technology", "technographics"),
        "parent": ("parent_company", "parent_account", "subsidiary_of", "parent_id"),
        "is_customer": ("customer", "client", "is_client"),
        "owner": ("account_owner", "sales_rep", "rep", "sales_agent", "owner_name"),
        "territory": ("sales_territory", "territory_name"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.parents: list[tuple[int, int, str]] = []  # (line, account id, parent reference)
        # Accounts to route once committed: new or changed ones whose territory the file does not set.
        self.route_ids: list[int] = []
        self.owner_changed_ids: list[tuple[int, int | None]] = []  # (account, its owner before)
        # Rows matched to an existing account by domain or name (accounts/duplicates.py): line -> match (a chunk
        # written again after a transient failure matches again, once).
        self.matches: dict[int, object] = {}

    def keys(self, row: Row) -> list[tuple]:
        keys = []
        if row.values.get("external_id"):
            keys.append(("external_id", row.values["external_id"]))
        if row.values.get("domain"):
            keys.append(("domain", row.values["domain"]))
        if not keys:
            raise f.FieldError(
                "has neither an account ID (external_id) nor a domain: one is needed so that importing it again "
                "updates the same account"
            )
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
        planned: list[tuple[Row, Account | None]] = []
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
            planned.append((row, account))
        # Rows whose keys name no account: are they an account we have under another name or domain?
        unkeyed = [row for row, account in planned if account is None]
        matches = dict(zip((r.line for r in unkeyed), match_records([r.values for r in unkeyed]), strict=True))
        for row, account in planned:
            external_id, dom = row.values.get("external_id"), row.values.get("domain")
            values = self._model_values(row)
            match = matches.get(row.line) if account is None else None
            if match is not None:
                self.matches[row.line] = match
                if match.confident:
                    account = match.account
                    values = matched_values(values, account)
            if row.extra:
                base = dict(account.attributes) if account else {}
                values["attributes"] = {**base, **row.extra}
            if account is None:
                account = Account(**values)
                account.keys_refresh()
                account = changes.create(account)
                new_rows.append((row, account))
                if external_id:
                    by_external[external_id] = account
                if dom:
                    by_domain[dom] = account
                continue
            values.update(
                account_keys(name=values.get("name", account.name), domain=values.get("domain", account.domain))
            )
            owner_before = account.owner_id
            changed = changes.update(account, values)
            if changed and "territory" not in row.values:
                self.route_ids.append(account.pk)
            if "owner_id" in changed:
                self.owner_changed_ids.append((account.pk, owner_before))
            if row.values.get("parent"):
                self.parents.append((row.line, account.pk, row.values["parent"]))
        counts = changes.save(dry_run=dry_run)
        if not dry_run:
            owners_changed([pk for pk, _ in self.owner_changed_ids])  # their pending handoffs follow them
            owner_changes_record([(pk, before, "imported") for pk, before in self.owner_changed_ids])
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
