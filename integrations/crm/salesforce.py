"""The Salesforce adapter: Salesforce's documented REST API through simple-salesforce.

- Pulls: SOQL through `/services/data/vXX.X/query`, `WHERE SystemModstamp >= <since> ORDER BY SystemModstamp, Id`,
  paged with the query's `nextRecordsUrl` (up to 2,000 records a batch, Salesforce's choice). Activities are two
  sObjects, Task and Event, merged into one stream, oldest first (see `_changed_merged`); the cursor says where in
  each it stands.
- Fields: `/sobjects/<Object>/describe`.
- Pushes: sObject Collections, `PATCH /services/data/vXX.X/composite/sobjects`, 200 records a call, `allOrNone`
  false, so one refused record does not hold back the others; each refusal comes back with Salesforce's words.
- Token: the stored access token is used until Salesforce answers 401 `INVALID_SESSION_ID`; then the adapter asks
  the OAuth token endpoint for a new one (`grant_type=refresh_token`), hands it to `on_tokens` and retries once.
- Limits: a 429 (a proxy in front of the org) or 403 `REQUEST_LIMIT_EXCEEDED` (the org's API limit) is retried after
  its Retry-After, if it gives one no longer than `max_retry_wait`, a bounded number of times; otherwise the call
  fails with Salesforce's message. The org's usage (`Sforce-Limit-Info`) is kept in `api_usage`, and the adapter
  stops before it uses more than `max_api_share` of the org's daily calls (other tools need them too).

Connection settings (`build(settings, on_tokens)`):
  instance_url      the org's URL, as the OAuth flow returned it (https://<my-domain>.my.salesforce.com); the connection
                    page's `base_url` when not given
  access_token      the current OAuth access token (session id)
  refresh_token     the OAuth refresh token, with client_id and client_secret (the connected app's consumer key and
                    secret) to refresh an expired access token
  token_url         the OAuth token endpoint (default https://login.salesforce.com/services/oauth2/token;
                    https://test.salesforce.com/services/oauth2/token for a sandbox)
  api_version       the REST API version (default "62.0")
  fields            optional {object: [Salesforce field, ...]}: fields to pull beyond the defaults (custom fields the
                    mapping uses); `extra_fields`, what the sync asks for, is read the same way and merged
  ca_bundle         optional path to the CA certificates to trust (an org behind a corporate TLS proxy)
  timeout           seconds to wait for Salesforce to answer (default 60)
  max_retries       how many times a rate-limited call is retried (default 5)
  max_retry_wait    the longest Retry-After honoured, in seconds (default 60)
  max_api_share     the share of the org's daily API calls (Sforce-Limit-Info) the sync may use (default 0.9)
  page_size         activities: records asked of Task and of Event for each page (default 2,000)
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from .adapter import CrmError, CrmRecord, Page, PushResult, RecordError

VENDOR = "salesforce"
API_VERSION = "62.0"
TOKEN_URL = "https://login.salesforce.com/services/oauth2/token"  # nosec B105
BATCH_SIZE = 200  # sObject Collections: at most 200 records a call
PAGE_SIZE = 2000  # activities: records asked of Task and of Event for a page (Salesforce's largest query batch)
ACTIVITY_SOBJECTS = ("Task", "Event")
SOBJECTS = {"account": ("Account",), "contact": ("Contact",), "opportunity": ("Opportunity",)}
SOBJECTS["activity"] = ACTIVITY_SOBJECTS
# Salesforce ids start with their object's key prefix.
KEY_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "Task": "00T", "Event": "00U"}

# The fields pulled for each sObject: what the default mapping reads, and what the adapter itself needs (the id, the
# modification time, the account the record belongs to).
DEFAULT_FIELDS = {
    "Account": ["Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry"],
    "Contact": ["FirstName", "LastName", "Email", "Title", "AccountId"],
    "Opportunity": ["Name", "Amount", "StageName", "CloseDate", "IsWon", "IsClosed", "AccountId"],
    "Task": ["Subject", "Type", "TaskSubtype", "ActivityDate", "AccountId", "WhatId"],
    "Event": ["Subject", "Type", "EventSubtype", "ActivityDate", "ActivityDateTime", "AccountId", "WhatId"],
}
# The product's fields (the importer's, see integrations/crm/mapping.py) -> the Salesforce fields they come from, for
# the mapping first proposed.
DEFAULT_MAPPING = {
    "account": {
        "name": "Name",
        "domain": "Website",
        "industry": "Industry",
        "employee_count": "NumberOfEmployees",
        "annual_revenue": "AnnualRevenue",
        "country": "BillingCountry",
    },
    "contact": {"first_name": "FirstName", "last_name": "LastName", "email": "Email", "title": "Title"},
    "opportunity": {
        "name": "Name",
        "amount": "Amount",
        "stage": "StageName",
        "closed_on": "CloseDate",
        "is_won": "IsWon",
        "is_closed": "IsClosed",
    },
    "activity": {"kind": "Type", "topic": "Subject", "occurred_at": "ActivityDate"},
}


def build(settings: dict, on_tokens: Callable[[dict], None]) -> SalesforceAdapter:
    return SalesforceAdapter(settings, on_tokens)


class SalesforceAdapter:
    vendor = VENDOR
    suggested = DEFAULT_MAPPING

    def __init__(self, settings: dict, on_tokens: Callable[[dict], None]):
        if not settings.get("instance_url") and settings.get("base_url"):
            settings = {**settings, "instance_url": settings["base_url"]}  # the connection page's "API base URL"
        missing = [key for key in ("instance_url", "access_token") if not settings.get(key)]
        if missing:
            raise CrmError(f"The Salesforce connection lacks {', '.join(missing)}: connect it to Salesforce again.")
        self.settings = settings
        self.on_tokens = on_tokens
        self.api_version = str(settings.get("api_version") or API_VERSION)
        self.token_url = settings.get("token_url") or TOKEN_URL
        self.timeout = float(settings.get("timeout") or 60)
        self.max_retries = int(settings.get("max_retries", 5))
        self.max_retry_wait = float(settings.get("max_retry_wait", 60))
        self.max_api_share = float(settings.get("max_api_share") or 0.9)
        self.page_size = max(1, int(settings.get("page_size") or PAGE_SIZE))
        # Fields to pull beyond the defaults: `fields` (the adapter's own setting) and `extra_fields` (what the sync
        # asks for: the saved mappings' and the push fields), merged.
        self.extra_fields: dict[str, list[str]] = {k: list(v) for k, v in (settings.get("fields") or {}).items()}
        # The sync's are asked only of the sObjects that have them (a push field not created yet, a mapping saved
        # before a field was deleted): Salesforce refuses a whole query naming a field it does not know.
        self.wanted_fields: dict[str, list[str]] = {k: list(v) for k, v in (settings.get("extra_fields") or {}).items()}
        self._described: dict[str, set[str]] = {}
        self.refresh_token = settings.get("refresh_token")
        self.api_usage: dict = {}
        self._last = threading.local()
        self.session = _Session(timeout=self.timeout, ca_bundle=settings.get("ca_bundle"))
        self.session.hooks["response"].append(self._remember)
        self._connect(settings["instance_url"], settings["access_token"])

    # -- the contract -------------------------------------------------------------------------------------------

    def fields(self, obj: str) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for sobject in _sobjects(obj):
            described = self._call(f"describe {sobject}", lambda sf, s=sobject: sf.restful(f"sobjects/{s}/describe"))
            for field in (described or {}).get("fields", []):
                if field["name"] == "Id":
                    continue  # the sync's own: every record's CRM id
                seen.setdefault(field["name"], field.get("label") or field["name"])
        return list(seen.items())

    def changed(self, obj: str, since: dt.datetime | None, cursor: str | None = None) -> Page:
        sobjects = _sobjects(obj)
        if len(sobjects) == 1:
            return self._changed_one(obj, sobjects[0], since, _decode_cursor(cursor, sobjects))
        return self._changed_merged(obj, sobjects, since, _decode_merged_cursor(cursor, sobjects))

    def _changed_one(self, obj: str, sobject: str, since: dt.datetime | None, position: dict) -> Page:
        """One sObject: a SOQL query, then the batches it left behind through nextRecordsUrl."""
        if position["next"]:
            answer = self._call(f"read {sobject}", lambda sf: sf.query_more(position["next"], identifier_is_url=True))
        else:
            soql = self._soql(obj, sobject, since)
            answer = self._call(f"query {sobject}", lambda sf: sf.query(soql))
        records = [self._record(sobject, raw) for raw in answer.get("records", [])]
        next_cursor = None
        if not answer.get("done", True) and answer.get("nextRecordsUrl"):
            next_cursor = _encode_cursor(sobject, answer["nextRecordsUrl"])
        return Page(records=records, next_cursor=next_cursor)

    def _changed_merged(self, obj: str, sobjects: tuple[str, ...], since: dt.datetime | None, position: dict) -> Page:
        """Activities are two sObjects (Task, Event); the sync needs them oldest first as one stream, or a watermark
        taken from a page of tasks would skip older events. Each page asks both for their next `page_size` records
        from the cursor's second on and keeps, merged, those stamped before the earliest second at which one of them
        was cut off; the rest come again with the next page. A second holding a whole page of one sObject is read to
        its end through nextRecordsUrl, each sObject in turn, before moving on."""
        if "second" in position:
            return self._drain_second(obj, sobjects, position)
        start = _parse_cursor_time(position["from"]) if position.get("from") else since
        fetched: list[CrmRecord] = []
        cut: list[dt.datetime] = []
        for sobject in sobjects:
            soql = self._soql(obj, sobject, start, limit=self.page_size)
            answer = self._call(f"query {sobject}", lambda sf, soql=soql: sf.query(soql))
            records = [self._record(sobject, raw) for raw in answer.get("records", [])]
            fetched += records
            # Cut off: by the LIMIT, or by a batch smaller than asked (Salesforce's choice: it left a nextRecordsUrl).
            if records and (len(records) >= self.page_size or not answer.get("done", True)):
                cut.append(_second(records[-1].modified_at))
        fetched.sort(key=lambda record: (record.modified_at, record.crm_id))
        if not cut:
            return Page(records=fetched, next_cursor=None)
        cutoff = min(cut)
        kept = [record for record in fetched if record.modified_at < cutoff]
        if kept:
            return Page(records=kept, next_cursor=json.dumps({"from": _cursor_time(cutoff)}))
        return self._drain_second(obj, sobjects, {"second": _cursor_time(cutoff), "sobject": sobjects[0], "next": None})

    def _drain_second(self, obj: str, sobjects: tuple[str, ...], position: dict) -> Page:
        second = _parse_cursor_time(position["second"])
        sobject = position["sobject"]
        if position["next"]:
            answer = self._call(f"read {sobject}", lambda sf: sf.query_more(position["next"], identifier_is_url=True))
        else:
            soql = self._soql(obj, sobject, second, before=second + dt.timedelta(seconds=1))
            answer = self._call(f"query {sobject}", lambda sf: sf.query(soql))
        records = [self._record(sobject, raw) for raw in answer.get("records", [])]
        if not answer.get("done", True) and answer.get("nextRecordsUrl"):
            after = {**position, "next": answer["nextRecordsUrl"]}
        elif sobjects.index(sobject) + 1 < len(sobjects):
            after = {**position, "sobject": sobjects[sobjects.index(sobject) + 1], "next": None}
        else:
            after = {"from": _cursor_time(second + dt.timedelta(seconds=1))}
        return Page(records=records, next_cursor=json.dumps(after, separators=(",", ":")))

    def push(self, obj: str, updates: list[tuple[str, dict]]) -> PushResult:
        sobjects = _sobjects(obj)
        merged: dict[str, dict] = {}
        for crm_id, values in updates:
            merged.setdefault(str(crm_id), {}).update(values)
        result = PushResult()
        items = list(merged.items())
        for start in range(0, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            body = {"allOrNone": False, "records": []}
            for crm_id, values in batch:
                record = {"attributes": {"type": _sobject_of(crm_id, sobjects)}, "id": crm_id}
                record.update({name: _json_value(value) for name, value in values.items()})
                body["records"].append(record)
            answers = self._call(
                f"update {obj} records",
                lambda sf, body=body: sf.restful("composite/sobjects", method="PATCH", data=json.dumps(body)),
            )
            if not isinstance(answers, list) or len(answers) != len(batch):
                raise CrmError(f"Salesforce answered {len(answers or [])} results for {len(batch)} records.")
            for (crm_id, _values), answer in zip(batch, answers, strict=True):
                if answer.get("success"):
                    result.updated.append(crm_id)
                else:
                    errors = answer.get("errors") or [{"message": "refused without a reason"}]
                    messages = [error.get("message") or error.get("statusCode", "") for error in errors]
                    result.errors.append(RecordError(crm_id=crm_id, message="; ".join(m for m in messages if m)))
        return result

    # -- pulls --------------------------------------------------------------------------------------------------

    def _soql(
        self,
        obj: str,
        sobject: str,
        since: dt.datetime | None,
        before: dt.datetime | None = None,
        limit: int | None = None,
    ) -> str:
        # Extra fields are named for the product's object ("activity": both Task and Event) or for one sObject.
        names = ["Id", "SystemModstamp", *DEFAULT_FIELDS[sobject]]
        names += [*self.extra_fields.get(obj, []), *self.extra_fields.get(sobject, [])]
        wanted = [*self.wanted_fields.get(obj, []), *self.wanted_fields.get(sobject, [])]
        if wanted:
            known = self._field_names(sobject)
            names += [name for name in wanted if name.lower() in known]
        for name in names:
            if not name.replace("_", "").replace(".", "").isalnum():
                raise CrmError(f"{name!r} is not a Salesforce field name.")
        select = ", ".join(dict.fromkeys(names))
        conditions = [f"SystemModstamp >= {soql_datetime(since)}"] if since else []
        if before:
            conditions.append(f"SystemModstamp < {soql_datetime(before)}")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        limit_clause = f" LIMIT {int(limit)}" if limit else ""
        # SOQL, not SQL: field names checked above, a fixed sObject, formatted dateTimes; nothing else is interpolated.
        return f"SELECT {select} FROM {sobject}{where} ORDER BY SystemModstamp, Id{limit_clause}"  # noqa: S608  # nosec B608

    def _record(self, sobject: str, raw: dict) -> CrmRecord:
        fields = {name: value for name, value in raw.items() if name != "attributes"}
        account_crm_id = None
        if sobject != "Account":
            account_crm_id = fields.get("AccountId")
            what = fields.get("WhatId")
            if not account_crm_id and what and str(what).startswith(KEY_PREFIXES["Account"]):
                account_crm_id = what
        try:
            modified_at = parse_datetime(fields["SystemModstamp"])
        except (KeyError, TypeError, ValueError) as error:
            raise CrmError(f"Salesforce sent a {sobject} without a readable SystemModstamp: {error}") from error
        return CrmRecord(crm_id=fields["Id"], modified_at=modified_at, fields=fields, account_crm_id=account_crm_id)

    def _field_names(self, sobject: str) -> set[str]:
        """The sObject's field names (lower case), described once per adapter."""
        if sobject not in self._described:
            described = self._call(f"describe {sobject}", lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
            self._described[sobject] = {field["name"].lower() for field in (described or {}).get("fields", [])}
        return self._described[sobject]

    # -- calls, limits, tokens ----------------------------------------------------------------------------------

    def _connect(self, instance_url: str, access_token: str) -> None:
        self.instance_url = instance_url
        self.access_token = access_token
        self.sf = Salesforce(
            instance_url=instance_url, session_id=access_token, version=self.api_version, session=self.session
        )

    def _remember(self, response, *args, **kwargs):
        self._last.response = response
        limit_info = response.headers.get("Sforce-Limit-Info")
        if limit_info:
            self.api_usage = {name: tuple(usage) for name, usage in Salesforce.parse_api_usage(limit_info).items()}

    def _call(self, what: str, call):
        refreshed = False
        retries = 0
        while True:
            self._check_api_budget(what)
            try:
                return call(self.sf)
            except SalesforceError as error:
                code, message = _vendor_error(error.content)
                if error.status == 401 and code == "INVALID_SESSION_ID" and not refreshed:
                    self._refresh()
                    refreshed = True
                    continue
                if error.status == 429 or code == "REQUEST_LIMIT_EXCEEDED":
                    wait = _retry_after(getattr(self._last, "response", None))
                    if wait is not None and wait <= self.max_retry_wait and retries < self.max_retries:
                        retries += 1
                        time.sleep(wait)
                        continue
                    detail = message or "too many requests"
                    if wait is not None and retries < self.max_retries:
                        detail += f" (it asks to wait {wait:g} s, longer than the {self.max_retry_wait:g} s allowed)"
                    raise CrmError(
                        f"Salesforce's API limit was reached ({what}; HTTP {error.status} {code}): {detail}"
                    ) from error
                raise CrmError(
                    f"Salesforce refused to {what}: {message or 'no reason given'} ({code or 'error'}, HTTP "
                    f"{error.status})"
                ) from error
            except requests.RequestException as error:
                raise CrmError(f"Salesforce could not be reached to {what}: {error}") from error
            except ValueError as error:  # a body that is not JSON
                raise CrmError(f"Salesforce's answer to {what} could not be read: {error}") from error

    def _check_api_budget(self, what: str) -> None:
        """The org's daily API calls are shared with every other integration: stop at `max_api_share` of them."""
        used, total = self.api_usage.get("api-usage", (0, 0))
        if total and used >= self.max_api_share * total:
            raise CrmError(
                f"Salesforce's org has used {used:,} of its {total:,} daily API calls; the sync stops at "
                f"{self.max_api_share:.0%} to leave the rest to other tools and resumes when the count falls "
                f"(before it would {what})."
            )

    def _refresh(self) -> None:
        if not (self.refresh_token and self.settings.get("client_id")):
            raise CrmError(
                "Salesforce's access token has expired and the connection has no refresh token: "
                "connect it to Salesforce again."
            )
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.settings["client_id"],
        }
        if self.settings.get("client_secret"):
            form["client_secret"] = self.settings["client_secret"]
        try:
            response = self.session.post(self.token_url, data=form)
            answer = response.json()
        except requests.RequestException as error:
            raise CrmError(f"Salesforce's token endpoint could not be reached: {error}") from error
        except ValueError as error:
            raise CrmError(f"Salesforce's token endpoint answered {response.status_code} without JSON.") from error
        if response.status_code != 200 or not answer.get("access_token"):
            reason = answer.get("error_description") or answer.get("error") or response.status_code
            raise CrmError(f"Salesforce refused to refresh the access token: {reason}. Connect it again.")
        tokens = {
            "access_token": answer["access_token"],
            "instance_url": answer.get("instance_url") or self.instance_url,
        }
        if answer.get("refresh_token"):  # refresh token rotation
            tokens["refresh_token"] = self.refresh_token = answer["refresh_token"]
        if answer.get("issued_at"):
            tokens["issued_at"] = answer["issued_at"]
        self._connect(tokens["instance_url"], tokens["access_token"])
        self.on_tokens(tokens)


class _Session(requests.Session):
    """Every call waits at most `timeout` and trusts `ca_bundle` when given. Given per request, because requests lets
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's own `verify`."""

    def __init__(self, timeout: float, ca_bundle: str | None):
        super().__init__()
        self.default_timeout = timeout
        self.ca_bundle = ca_bundle

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.default_timeout)
        if self.ca_bundle:
            kwargs.setdefault("verify", self.ca_bundle)
        return super().request(method, url, **kwargs)


# -- helpers -----------------------------------------------------------------------------------------------------


def soql_datetime(moment: dt.datetime) -> str:
    """A SOQL dateTime literal (UTC, no quotes). Salesforce compares dateTimes to the second, so the watermark is
    floored to its second: `>=` then includes every record stamped in that second (repeated, never lost)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: str) -> dt.datetime:
    """Salesforce's dateTime: 2024-01-15T10:30:00.000+0000."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _sobjects(obj: str) -> tuple[str, ...]:
    try:
        return SOBJECTS[obj]
    except KeyError:
        raise CrmError(f"Salesforce has no {obj!r} records to sync.") from None


def _sobject_of(crm_id: str, sobjects: tuple[str, ...]) -> str:
    if len(sobjects) == 1:
        return sobjects[0]
    for sobject in sobjects:
        if crm_id.startswith(KEY_PREFIXES[sobject]):
            return sobject
    return sobjects[0]  # Salesforce refuses it, record by record, in its words


def _encode_cursor(sobject: str, next_url: str | None) -> str:
    return json.dumps({"sobject": sobject, "next": next_url}, separators=(",", ":"))


def _decode_cursor(cursor: str | None, sobjects: tuple[str, ...]) -> dict:
    if not cursor:
        return {"sobject": sobjects[0], "next": None}
    try:
        position = json.loads(cursor)
        if position["sobject"] not in sobjects or not isinstance(position.get("next") or "", str):
            raise ValueError(position["sobject"])
    except (ValueError, KeyError, TypeError) as error:
        raise CrmError(f"{cursor!r} is not a page of Salesforce {'/'.join(sobjects)} records.") from error
    return position


def _decode_merged_cursor(cursor: str | None, sobjects: tuple[str, ...]) -> dict:
    if not cursor:
        return {}
    try:
        position = json.loads(cursor)
        if "second" in position:
            _parse_cursor_time(position["second"])
            if position["sobject"] not in sobjects or not isinstance(position.get("next") or "", str):
                raise ValueError(position["sobject"])
        else:
            _parse_cursor_time(position["from"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CrmError(f"{cursor!r} is not a page of Salesforce {'/'.join(sobjects)} records.") from error
    return position


def _second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def _cursor_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_cursor_time(value: str) -> dt.datetime:
    return parse_datetime(value)


def _vendor_error(content) -> tuple[str, str]:
    """Salesforce's errors: [{"message": ..., "errorCode": ...}] (or an OAuth {"error", "error_description"})."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", "")), str(content[0].get("message", "")).strip()
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or ""), str(
            content.get("message") or content.get("error_description") or ""
        )
    return "", str(content or "")[:300]


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
