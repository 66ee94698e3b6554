"""The contract between the sync and a CRM vendor.

An adapter speaks one vendor's documented API through the vendor's own Python client (hubspot-api-client,
simple-salesforce). The sync (mapping, watermarks, upserts, dry-run diffs, jobs) never sees the vendor: it asks
the adapter for records changed since a watermark, one page at a time, and hands it batches of updates.

Objects are named the product's way whatever the vendor calls them:
- "account": HubSpot companies, Salesforce Account;
- "contact": HubSpot contacts, Salesforce Contact;
- "opportunity": HubSpot deals, Salesforce Opportunity;
- "activity": HubSpot engagements (calls, meetings, emails, notes...), Salesforce Task and Event; they become signals.

The adapter owns what is the vendor's business: authentication and refreshing an expired OAuth token (calling
`on_tokens` with the new tokens so they are stored), honouring 429s and Retry-After, its batch sizes, and turning
the vendor's per-record errors into `RecordError`s. It raises `CrmError` for a failure of the whole call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

OBJECTS = ("account", "contact", "opportunity", "activity")


class CrmError(Exception):
    """A call to the CRM failed as a whole (after the retries its rate limits allow)."""


@dataclass(frozen=True)
class CrmRecord:
    """One record as the CRM holds it."""

    crm_id: str
    modified_at: dt.datetime  # the vendor's last-modified time (aware, UTC)
    fields: dict  # the vendor's field or property names -> values, as the vendor sends them
    # For contacts, opportunities and activities: the CRM id of the account (company) they belong to, if any.
    account_crm_id: str | None = None


@dataclass(frozen=True)
class Page:
    records: list[CrmRecord]
    # Where the next page starts (the vendor's cursor or next-records URL); None when this page was the last.
    next_cursor: str | None
    # How many records the whole query holds, when the CRM says (for progress bars); None when it does not.
    total: int | None = None


@dataclass(frozen=True)
class RecordError:
    crm_id: str
    message: str  # the vendor's words


@dataclass
class PushResult:
    updated: list[str] = field(default_factory=list)  # CRM ids the CRM accepted
    errors: list[RecordError] = field(default_factory=list)  # the ones it refused, each with its reason


class Adapter(Protocol):
    vendor: str  # "hubspot" | "salesforce"

    def fields(self, obj: str) -> list[tuple[str, str]]:
        """The object's fields or properties in the CRM: (name, label), for the mapping page."""

    def changed(self, obj: str, since: dt.datetime | None, cursor: str | None = None) -> Page:
        """One page of the object's records modified at or after `since` (all of them when None), oldest first,
        continuing from `cursor` (from the previous page). Oldest first lets the sync keep a watermark it can resume
        from after an interruption, losing and repeating nothing."""

    def push(self, obj: str, updates: list[tuple[str, dict]]) -> PushResult:
        """Write fields to records: [(crm_id, {field: value})], through the vendor's batch endpoints (the adapter
        splits the list into the vendor's batch sizes)."""


# What an adapter is built from: the connection's settings and stored credentials (decrypted), and a callback to
# store refreshed tokens.
AdapterFactory = Callable[[dict, Callable[[dict], None]], Adapter]


def pages(adapter: Adapter, obj: str, since: dt.datetime | None) -> Iterator[Page]:
    """Every page of the object's changes since `since`, one at a time (memory stays flat in the number of records)."""
    cursor = None
    while True:
        page = adapter.changed(obj, since, cursor)
        yield page
        if not page.next_cursor:
            return
        cursor = page.next_cursor
