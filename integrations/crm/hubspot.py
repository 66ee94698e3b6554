"""The HubSpot adapter: CRM v3 objects through HubSpot's own Python client (hubspot-api-client).

- Pull: `POST /crm/v3/objects/{companies,contacts,deals}/search`, filtered on `hs_lastmodifieddate` >= the watermark,
  sorted on it ascending, 100 a page, `after` paging. The search API stops at 10,000 results for one query: the
  adapter then asks again from the last record it returned (its modified time and id: `hs_lastmodifieddate` > t, or
  = t and `hs_object_id` > id), so a pull of any size goes through, and records with equal times lose nothing.
- Activities are HubSpot's engagement objects: calls, meetings, emails and notes (`/crm/v3/objects/{type}/search`),
  merged oldest first: each page asks each type for its next records after the last one returned (by time, then
  type, then id) and keeps the oldest 100. Each becomes a signal whose kind is the type: call, meeting, email, note.
- Contacts, deals and activities are tied to their company through
  `POST /crm/v4/associations/{type}/companies/batch/read` (one call a page).
- Fields: `GET /crm/v3/properties/{type}`.
- Push: `POST /crm/v3/objects/companies/batch/update`, 100 records a call; the records HubSpot refuses (a 207's
  `errors`, each with `context.ids`) come back as RecordErrors with HubSpot's message.
- An expired token (401): the OAuth refresh_token grant at `POST /oauth/v1/token`, `on_tokens` stores the new
  tokens, the call is tried once more. A 429: wait Retry-After (at most `retry_after_max` seconds) and try again, a
  bounded number of times.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable

from django.conf import settings as django_settings
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput, SimplePublicObjectBatchInput
from hubspot.crm.objects import PublicObjectSearchRequest
from urllib3.util.retry import Retry

from .adapter import CrmError, CrmRecord, Page, PushResult, RecordError

log = logging.getLogger(__name__)

OBJECT_TYPES = {
    "account": ("companies",),
    "contact": ("contacts",),
    "opportunity": ("deals",),
    "activity": ("calls", "meetings", "emails", "notes"),
}
ENGAGEMENT_KIND = {"calls": "call", "meetings": "meeting", "emails": "email", "notes": "note"}
ENGAGEMENT_TYPE_FIELD = "engagement_type"  # added to each activity's fields: call, meeting, email or note
MODIFIED = "hs_lastmodifieddate"
PAGE_SIZE = 100
BATCH_SIZE = 100  # HubSpot's batch endpoints take at most 100 inputs
SEARCH_CAP = 10_000  # the search API's results for one query
# The properties asked for on each pull, besides the mapping's: the ones the default mapping reads.
DEFAULT_PROPERTIES = {
    "companies": [
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "annualrevenue",
        "country",
        "state",
        "city",
    ],
    "contacts": ["firstname", "lastname", "email", "jobtitle"],
    "deals": ["dealname", "amount", "dealstage", "closedate", "pipeline"],
    "calls": ["hs_timestamp", "hs_call_title"],
    "meetings": ["hs_timestamp", "hs_meeting_title"],
    "emails": ["hs_timestamp", "hs_email_subject"],
    "notes": ["hs_timestamp", "hs_note_body"],
}


def _parse_time(value) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _millis(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class HubSpotAdapter:
    vendor = "hubspot"
    # The mapping first proposed, besides what the properties' names and labels suggest: {object: {field: property}}.
    suggested = {
        "account": {"employee_count": "numberofemployees", "annual_revenue": "annualrevenue", "region": "state"},
        "contact": {"first_name": "firstname", "last_name": "lastname", "title": "jobtitle"},
        "opportunity": {"name": "dealname", "stage": "dealstage", "closed_on": "closedate"},
        "activity": {"kind": ENGAGEMENT_TYPE_FIELD, "occurred_at": "hs_timestamp"},
    }

    def __init__(self, settings: dict, on_tokens: Callable[[dict], None]) -> None:
        self.settings = settings
        self.on_tokens = on_tokens
        self.base_url = (settings.get("base_url") or "https://api.hubapi.com").rstrip("/")
        self.search_cap = int(settings.get("search_cap") or SEARCH_CAP)
        self.page_size = min(int(settings.get("page_size") or PAGE_SIZE), 200)
        self.retry_after_max = float(
            settings.get("retry_after_max", getattr(django_settings, "CRM_RETRY_AFTER_MAX_SECONDS", 60))
        )
        self.retries = int(settings.get("rate_limit_retries", getattr(django_settings, "CRM_RATE_LIMIT_RETRIES", 5)))
        # The properties each search asks for: the default mapping's and the sync's `extra_fields` (the mapping's
        # and the push fields, per object), HubSpot sending only the properties asked for.
        extra = settings.get("extra_fields") or {}
        self.properties: dict[str, list[str]] = {
            t: list(
                dict.fromkeys(
                    DEFAULT_PROPERTIES.get(t, []) + [f for f in extra.get(obj, []) if f != ENGAGEMENT_TYPE_FIELD]
                )
            )
            for obj, types in OBJECT_TYPES.items()
            for t in types
        }
        self.access_token = settings.get("access_token") or ""
        self.refresh_token = settings.get("refresh_token") or ""
        self.client = self._client()

    def _client(self) -> HubSpot:
        # No retries inside urllib3: 429s and expired tokens are this adapter's to handle, visibly.
        return HubSpot(access_token=self.access_token, host=self.base_url, retry=Retry(total=0, raise_on_status=False))

    # calls ---------------------------------------------------------------------------------------------------

    def _call(self, what: str, call: Callable[[HubSpot], object]):
        """One API call: refresh the token once on a 401, wait out 429s (bounded), raise CrmError otherwise."""
        refreshed = False
        limited = 0
        while True:
            try:
                return call(self.client)
            except Exception as exc:
                status = getattr(exc, "status", None)
                if status is None:
                    if type(exc).__name__ in ("ApiTypeError", "ApiValueError"):
                        raise
                    raise CrmError(f"HubSpot could not be reached ({what}): {exc}") from exc
                if status == 401 and not refreshed and self.refresh_token:
                    self._refresh()
                    refreshed = True
                    continue
                if status == 429 and limited < self.retries:
                    limited += 1
                    time.sleep(self._retry_after(exc))
                    continue
                raise CrmError(f"HubSpot answered {status} to {what}: {_message(exc)}") from exc

    def _retry_after(self, exc) -> float:
        headers = getattr(exc, "headers", None) or {}
        value = headers.get("Retry-After") if hasattr(headers, "get") else None
        try:
            wait = float(value) if value is not None else 1.0
        except ValueError:
            wait = 1.0
        return max(0.0, min(wait, self.retry_after_max))

    def _refresh(self) -> None:
        try:
            answer = self.client.oauth.tokens_api.create(
                grant_type="refresh_token",
                client_id=self.settings.get("client_id"),
                client_secret=self.settings.get("client_secret"),
                refresh_token=self.refresh_token,
            )
        except Exception as exc:
            raise CrmError(
                f"HubSpot refused to refresh the access token: {_message(exc)}. Connect the account again."
            ) from exc
        self.access_token = answer.access_token
        self.refresh_token = answer.refresh_token or self.refresh_token
        tokens = {"access_token": self.access_token, "refresh_token": self.refresh_token}
        if getattr(answer, "expires_in", None):
            expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(answer.expires_in))
            tokens["expires_at"] = expires.isoformat()
        self.on_tokens(tokens)
        self.client = self._client()
        log.info("HubSpot access token refreshed")

    # the contract --------------------------------------------------------------------------------------------

    def fields(self, obj: str) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for object_type in OBJECT_TYPES[obj]:
            answer = self._call(
                f"the {object_type} properties",
                lambda c, t=object_type: c.crm.properties.core_api.get_all(object_type=t),
            )
            for prop in answer.results:
                found.setdefault(prop.name, prop.label or prop.name)
        if obj == "activity":
            found = {ENGAGEMENT_TYPE_FIELD: "Activity type (call, meeting, email, note)", **found}
        return list(found.items())

    def changed(self, obj: str, since: dt.datetime | None, cursor: str | None = None) -> Page:
        if obj not in OBJECT_TYPES:
            raise CrmError(f"HubSpot has no {obj!r} object here.")
        position = json.loads(cursor) if cursor else {"t": since.isoformat() if since else None}
        if obj == "activity":
            return self._activities(position)
        return self._objects(obj, OBJECT_TYPES[obj][0], position)

    def _search(self, object_type: str, position: dict, *, kind_order: int = 0, after: str | None = None):
        """One search page after `position` ({"t": time, "k": type order, "id": last id}, or just a start time)."""
        groups = []
        start = _parse_time(position["t"]) if position.get("t") else None
        if start is not None and position.get("id") is None:
            groups = [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": _millis(start)}]}]
        elif start is not None:
            after_start = [{"propertyName": MODIFIED, "operator": "GT", "value": _millis(start)}]
            same_time = [
                {"propertyName": MODIFIED, "operator": "EQ", "value": _millis(start)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(position["id"])},
            ]
            last_kind = position.get("k", 0)
            if kind_order < last_kind:
                groups = [{"filters": after_start}]
            elif kind_order == last_kind:
                groups = [{"filters": after_start}, {"filters": same_time}]
            else:
                groups = [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": _millis(start)}]}]
        request = PublicObjectSearchRequest(
            filter_groups=groups,
            sorts=[{"propertyName": MODIFIED, "direction": "ASCENDING"}],
            properties=self.properties[object_type],
            limit=self.page_size,
            after=after,
        )
        return self._call(
            f"the {object_type} search",
            lambda c: c.crm.objects.search_api.do_search(object_type=object_type, public_object_search_request=request),
        )

    def _record(self, object_type: str, item, companies: dict[str, str]) -> CrmRecord:
        fields = dict(item.properties or {})
        if object_type in ENGAGEMENT_KIND:
            fields[ENGAGEMENT_TYPE_FIELD] = ENGAGEMENT_KIND[object_type]
        modified = fields.get(MODIFIED) or item.updated_at
        return CrmRecord(
            crm_id=str(item.id),
            modified_at=_parse_time(modified),
            fields=fields,
            account_crm_id=companies.get(str(item.id)),
        )

    def _objects(self, obj: str, object_type: str, position: dict) -> Page:
        after = position.get("after")
        answer = self._search(object_type, position, after=after)
        items = list(answer.results or [])
        companies = self._companies(object_type, [str(i.id) for i in items]) if obj != "account" else {}
        records = [self._record(object_type, item, companies) for item in items]
        next_after = answer.paging.next.after if answer.paging and answer.paging.next else None
        total = getattr(answer, "total", None)
        if not next_after or not records:
            return Page(records=records, next_cursor=None, total=total)
        base = {k: position[k] for k in ("t", "id") if k in position}
        if int(next_after) + self.page_size > self.search_cap:
            # The search API's cap: ask again from the last record returned.
            last = records[-1]
            cursor = json.dumps({"t": last.modified_at.isoformat(), "id": last.crm_id})
            return Page(records=records, next_cursor=cursor, total=total)
        return Page(records=records, next_cursor=json.dumps({**base, "after": next_after}), total=total)

    def _activities(self, position: dict) -> Page:
        """The oldest records of every engagement type after `position`, merged: each type is asked for its next
        page; only the oldest `page_size` of them are returned (the others come again on the next page)."""
        merged: list[tuple[tuple, str, object]] = []
        more = False
        total = 0
        for order, object_type in enumerate(OBJECT_TYPES["activity"]):
            answer = self._search(object_type, position, kind_order=order)
            items = list(answer.results or [])
            total += getattr(answer, "total", None) or 0
            if answer.paging and answer.paging.next:
                more = True
            for item in items:
                modified = _parse_time((item.properties or {}).get(MODIFIED) or item.updated_at)
                merged.append(((modified, order, int(item.id)), object_type, item))
        merged.sort(key=lambda entry: entry[0])
        kept = merged[: self.page_size]
        more = more or len(merged) > len(kept)
        records = []
        by_type: dict[str, list] = {}
        for _key, object_type, item in kept:
            by_type.setdefault(object_type, []).append(item)
        companies: dict[str, dict[str, str]] = {
            t: self._companies(t, [str(i.id) for i in items]) for t, items in by_type.items()
        }
        for _key, object_type, item in kept:
            records.append(self._record(object_type, item, companies[object_type]))
        if not kept or not more:
            return Page(records=records, next_cursor=None, total=total)
        (modified, order, last_id), _, _ = kept[-1]
        cursor = json.dumps({"t": modified.isoformat(), "k": order, "id": last_id})
        return Page(records=records, next_cursor=cursor, total=total)

    def _companies(self, object_type: str, ids: list[str]) -> dict[str, str]:
        """Record id -> the id of its company (the first associated), for one page."""
        if not ids:
            return {}
        request = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in ids]
        )
        answer = self._call(
            f"the {object_type} associations",
            lambda c: c.crm.associations.v4.batch_api.get_page(
                from_object_type=object_type,
                to_object_type="companies",
                batch_input_public_fetch_associations_batch_request=request,
            ),
        )
        found = {}
        for result in answer.results or []:
            if result.to:
                found[str(result._from.id)] = str(result.to[0].to_object_id)
        return found

    def push(self, obj: str, updates: list[tuple[str, dict]]) -> PushResult:
        if obj != "account":
            raise CrmError("Only companies are written back to HubSpot.")
        result = PushResult()
        for start in range(0, len(updates), BATCH_SIZE):
            batch = updates[start : start + BATCH_SIZE]
            body = BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(
                        id=crm_id, properties={k: "" if v is None else str(v) for k, v in values.items()}
                    )
                    for crm_id, values in batch
                ]
            )
            answer = self._call(
                "the companies batch update",
                lambda c, body=body: c.crm.companies.batch_api.update(
                    batch_input_simple_public_object_batch_input=body
                ),
            )
            refused: dict[str, str] = {}
            for error in getattr(answer, "errors", None) or []:
                ids = (error.context or {}).get("ids") or []
                for crm_id in ids:
                    refused[str(crm_id)] = error.message
            accepted = {str(item.id) for item in answer.results or []}
            for crm_id, _values in batch:
                if crm_id in refused:
                    result.errors.append(RecordError(crm_id=crm_id, message=refused[crm_id]))
                elif crm_id in accepted:
                    result.updated.append(crm_id)
                else:
                    result.errors.append(RecordError(crm_id=crm_id, message="HubSpot did not confirm the update"))
        return result


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if body:
        try:
            return json.loads(body).get("message") or str(body)[:300]
        except (ValueError, AttributeError):
            return str(body)[:300]
    return getattr(exc, "reason", None) or str(exc)[:300]


def hubspot_adapter(settings: dict, on_tokens: Callable[[dict], None]) -> HubSpotAdapter:
    return HubSpotAdapter(settings, on_tokens)
