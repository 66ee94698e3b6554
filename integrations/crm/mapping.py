"""How a CRM record becomes a record of the product's importer: which CRM field fills which product field, which
ones are kept as account attributes, the rest ignored.

The product fields are the importer's (accounts/imports), so a pulled record is validated, matched and upserted as
any import is; the CRM id is the record's external_id, set by the sync, as is the account of contacts, deals and
activities (from their company's link). Contacts may be named by a first and a last name, joined."""

from __future__ import annotations

from accounts.imports import fields as f
from accounts.imports import guess_mapping, kind_fields, mapping_problems
from accounts.imports.fields import Field, is_blank

from .adapter import CrmRecord

IMPORT_KIND = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities", "activity": "signals"}
NOUN = {"account": "account", "contact": "contact", "opportunity": "opportunity", "activity": "activity"}
PLURAL = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities", "activity": "activities"}
# The importer's fields the sync fills itself (never mapped): the CRM id, the account a record belongs to; and the
# ones a CRM cannot name the product's way (owners, territories and parents are the product's own).
SET_BY_SYNC = {
    "account": {"external_id", "owner", "territory", "parent", "annual_revenue_millions"},
    "contact": {"external_id", "account"},
    "opportunity": {"external_id", "account", "owner"},
    "activity": {"external_id", "account", "contact"},
}
EXTRA_FIELDS = {
    "contact": {
        "first_name": Field("first_name", f.text(150), help="joined with the last name into the contact's name"),
        "last_name": Field("last_name", f.text(150)),
    }
}
DATE_FIELDS = {"engaged_on", "closed_on"}


def product_fields(obj: str) -> dict[str, Field]:
    """The fields a CRM field can fill, for `obj`: name -> Field (its label is `.title`)."""
    fields = {n: spec for n, spec in kind_fields(IMPORT_KIND[obj]).items() if n not in SET_BY_SYNC[obj]}
    if obj == "contact":
        fields = {**EXTRA_FIELDS["contact"], **fields}
    return fields


def guess(obj: str, crm_fields: list[tuple[str, str]], suggested: dict | None = None) -> dict[str, str]:
    """{product field: CRM field} first proposed: the vendor's suggestions, then fields named like a product field
    or one of its synonyms, by name, then by label (the CSV import's guessing)."""
    kind = IMPORT_KIND[obj]
    names = [name for name, _ in crm_fields]
    wanted = product_fields(obj)
    guessed = {k: v for k, v in (suggested or {}).items() if k in wanted and v in names}
    by_name = guess_mapping(kind, names)
    by_label_text = guess_mapping(kind, [label for _, label in crm_fields])
    label_to_name = {label: name for name, label in crm_fields}
    for found in (by_name, {k: label_to_name[v] for k, v in by_label_text.items()}):
        for field, column in found.items():
            if field in wanted and field not in guessed and column not in guessed.values():
                guessed[field] = column
    return guessed


def problems(obj: str, fields: dict[str, str]) -> list[str]:
    """What is wrong with a mapping ({product field: CRM field}), in words."""
    targets = [t for t in fields if t not in EXTRA_FIELDS.get(obj, {})] + sorted(SET_BY_SYNC[obj])
    if obj == "contact" and ("first_name" in fields or "last_name" in fields):
        targets.append("name")
    if obj == "contact" and "email" in fields:
        targets.append("name")  # a contact without a name is named by its email
    found = mapping_problems(IMPORT_KIND[obj], targets)
    return [p.replace("column", "CRM field") for p in found if "identifies each" not in p]


def convert(obj: str, record: CrmRecord, mapping: dict, *, account_id: int | None, source: str) -> dict:
    """The importer's record for a CRM record: mapped fields, the CRM id as external_id, the account's id, the
    fields kept as attributes (accounts)."""
    values: dict = {}
    for product, crm in (mapping.get("fields") or {}).items():
        value = record.fields.get(crm)
        if product in DATE_FIELDS and isinstance(value, str) and "T" in value:
            value = value.split("T", 1)[0]  # a CRM's date-time holding a day
        values[product] = value
    if obj == "contact":
        first, last = values.pop("first_name", None), values.pop("last_name", None)
        if is_blank(values.get("name")):
            joined = " ".join(str(p).strip() for p in (first, last) if not is_blank(p))
            values["name"] = joined or values.get("email")
    values["external_id"] = record.crm_id
    if obj == "account":
        kept = {
            name: value for name in mapping.get("attributes") or [] if not is_blank(value := record.fields.get(name))
        }
        if kept:
            values["attributes"] = kept
    else:
        values["account"] = account_id
    if obj == "activity" and is_blank(values.get("source")):
        values["source"] = source
    return values


def mapping_words(obj: str, mapping: dict, labels: dict[str, str]) -> list[tuple[str, str]]:
    """(product field label, CRM field label) pairs of a mapping, for pages."""
    fields = product_fields(obj)
    return [(fields[p].title if p in fields else p, labels.get(c, c)) for p, c in (mapping.get("fields") or {}).items()]
