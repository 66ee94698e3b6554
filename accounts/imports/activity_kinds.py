"""The contacts, signals and opportunities kinds: what hangs off accounts, each upserted by its key."""

from __future__ import annotations

from typing import Any

from ..changes import won_deals_changed, won_state
from ..models import Contact, Opportunity, Signal
from . import fields as f
from .fields import Field
from .kinds import Changes, Counts, KindImporter, Row, account_ref
from .refs import resolve_accounts, resolve_contacts, resolve_users


class ContactImporter(KindImporter):
    kind = "contacts"
    fields = {
        x.name: x
        for x in [
            Field("account", account_ref, required=True, help="the account's ID, domain or name"),
            Field("external_id", f.text(255), help="your CRM's id for the contact", label="Contact ID"),
            Field("name", f.text(255), required=True, help="full name"),
            Field("email", f.email),
            Field("title", f.text(255), help="job title"),
            Field(
                "persona",
                f.choice(tuple(Contact.Persona.values), default=Contact.Persona.OTHER),
                help=", ".join(Contact.Persona.labels).lower() + " (other when empty)",
            ),
        ]
    }
    key_fields = ("external_id", "email")
    noun = "contact"
    synonyms = {
        "account": ("company", "company_name", "account_name", "account_id", "organisation", "organization"),
        "external_id": ("contact_id", "id", "crm_id", "record_id"),
        "name": ("full_name", "contact_name", "contact"),
        "email": ("email_address", "e_mail", "mail", "work_email"),
        "title": ("job_title", "position"),
        "persona": ("buying_role", "role_in_buying_group"),
    }

    def keys(self, row: Row) -> list[tuple]:
        keys = []
        if row.values.get("external_id"):
            keys.append(("external_id", row.values["external_id"]))
        if row.values.get("email"):
            keys.append(("email", row.values["account"], row.values["email"]))
        if not keys:
            raise f.FieldError(
                "has neither a contact ID (external_id) nor an email: one is needed so that importing it again "
                "updates the same contact"
            )
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
            Field("account", account_ref, required=True, help="the account's ID, domain or name"),
            Field("contact", account_ref, help="the contact's ID or email"),
            Field("kind", f.signal_kind, required=True, help="e.g. web_visit, meeting, intent_surge"),
            Field("topic", f.text(120)),
            Field(
                "occurred_at",
                f.datetime_value,
                required=True,
                help="date and time, e.g. 2024-05-01T13:45:00Z (UTC when no zone is given)",
                label="When",
            ),
            Field("source", f.text(120)),
            Field("external_id", f.text(255), help="the same signal sent twice is kept once", label="Signal ID"),
        ]
    }
    noun = "signal"
    synonyms = {
        "account": ("company", "company_name", "account_name", "account_id", "domain", "website"),
        "contact": ("contact_email", "email", "contact_id"),
        "kind": ("signal", "signal_kind", "type", "event", "event_type", "activity", "activity_type"),
        "topic": ("subject", "keyword", "intent_topic"),
        "occurred_at": ("date", "timestamp", "time", "datetime", "occurred", "happened_at", "event_date", "when"),
        "source": ("channel", "origin", "provider"),
        "external_id": ("signal_id", "event_id", "id", "activity_id"),
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
            Field("external_id", f.text(255), required=True, help="your CRM's id for it", label="Opportunity ID"),
            Field("account", account_ref, required=True, help="the account's ID, domain or name"),
            Field("name", f.text(255)),
            Field("product", f.text(255)),
            Field("amount", f.decimal_number(), help="in USD"),
            Field("stage", f.text(60), required=True, help="Won / Lost mean closed; anything else is open"),
            Field("is_closed", f.boolean, help="yes or no; from the stage when not given", label="Closed"),
            Field("is_won", f.boolean, help="yes or no; from the stage when not given", label="Won"),
            Field("engaged_on", f.date_value, help="YYYY-MM-DD", label="Engaged on"),
            Field("closed_on", f.date_value, help="YYYY-MM-DD", label="Closed on"),
            Field("owner", f.reference, help="the owner's username or full name"),
        ]
    }
    noun = "opportunity"
    synonyms = {
        "external_id": ("opportunity_id", "deal_id", "opp_id", "id", "crm_id"),
        "account": ("company", "company_name", "account_name", "account_id"),
        "name": ("opportunity_name", "deal_name", "opportunity", "deal"),
        "product": ("product_name", "sku"),
        "amount": ("value", "close_value", "deal_value", "deal_size", "price"),
        "stage": ("deal_stage", "status", "opportunity_stage"),
        "engaged_on": ("engage_date", "created", "created_on", "created_date", "open_date", "engaged"),
        "closed_on": ("close_date", "closed", "closed_date", "won_date"),
        "owner": ("sales_agent", "sales_rep", "rep", "opportunity_owner", "deal_owner"),
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
        won_changed: set[int] = set()
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
                existing[values["external_id"]] = opportunity = changes.create(Opportunity(**values))
                before = won_state(None)
            else:
                before = won_state(opportunity)
                changes.update(opportunity, values)
            after = won_state(opportunity)
            if before != after and (before[1] or after[1]):
                won_changed.update({before[0], after[0]})
        counts = changes.save(dry_run=dry_run)
        if not dry_run:
            won_deals_changed(won_changed)  # the set of won accounts changed: lookalike scores are refreshed
        return counts
