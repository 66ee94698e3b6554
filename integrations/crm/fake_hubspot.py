"""A fake HubSpot, for the tests and the demo (which syncs against it in-process): a real HTTP server (a thread,
port 0) serving the documented endpoints and shapes the HubSpot adapter uses, with the records in memory and the
control interface every fake CRM shares (tests/integrations/fakes/__init__.py).

Served, as HubSpot documents them:
- POST /oauth/v1/token (form: grant_type=refresh_token, client_id, client_secret, refresh_token): new tokens;
- GET  /crm/v3/properties/{objectType}: the object's properties (name, label, type, fieldType, groupName...);
- POST /crm/v3/objects/{objectType}/search: filterGroups (OR) of filters (AND) on properties, operators EQ, GT,
  GTE, LT, LTE; sorts by one property; `after` paging; at most 200 per page; `total`; a 400 past the search API's
  cap (10,000 results; `search_cap` lowers it for tests); ties in the sort come in id order;
- POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read: each record's associated records;
- POST /crm/v3/objects/{objectType}/batch/update: at most 100 inputs; 200, or 207 with the refused ones in `errors`.
Every API call needs `Authorization: Bearer <access token>` (401 EXPIRED_AUTHENTICATION otherwise) and may be
answered 429 with Retry-After (rate_limit_next)."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OBJECT_TYPES = {  # the product's object -> HubSpot object types
    "account": ("companies",),
    "contact": ("contacts",),
    "opportunity": ("deals",),
    "activity": ("calls", "meetings", "emails", "notes"),
}
ENGAGEMENT_TYPE = {"calls": "call", "meetings": "meeting", "emails": "email", "notes": "note"}
TYPE_OF_ENGAGEMENT = {v: k for k, v in ENGAGEMENT_TYPE.items()}
PUSH_PROPERTIES = [
    ("revops_score", "RevOps score", "number"),
    ("revops_tier", "RevOps tier", "string"),
    ("revops_owner_email", "RevOps owner email", "string"),
    ("revops_handoff_status", "RevOps handoff status", "string"),
]
PROPERTIES = {
    "companies": [
        ("name", "Name", "string"),
        ("domain", "Company Domain Name", "string"),
        ("industry", "Industry", "enumeration"),
        ("numberofemployees", "Number of Employees", "number"),
        ("annualrevenue", "Annual Revenue", "number"),
        ("country", "Country/Region", "string"),
        ("state", "State/Region", "string"),
        ("city", "City", "string"),
        ("lifecyclestage", "Lifecycle Stage", "enumeration"),
        ("hs_lastmodifieddate", "Last Modified Date", "datetime"),
        *PUSH_PROPERTIES,
    ],
    "contacts": [
        ("firstname", "First Name", "string"),
        ("lastname", "Last Name", "string"),
        ("email", "Email", "string"),
        ("jobtitle", "Job Title", "string"),
        ("hs_lastmodifieddate", "Last Modified Date", "datetime"),
    ],
    "deals": [
        ("dealname", "Deal Name", "string"),
        ("amount", "Amount", "number"),
        ("dealstage", "Deal Stage", "enumeration"),
        ("closedate", "Close Date", "datetime"),
        ("pipeline", "Pipeline", "enumeration"),
        ("hs_lastmodifieddate", "Last Modified Date", "datetime"),
    ],
    "calls": [("hs_timestamp", "Activity date", "datetime"), ("hs_call_title", "Call Title", "string")],
    "meetings": [("hs_timestamp", "Activity date", "datetime"), ("hs_meeting_title", "Meeting name", "string")],
    "emails": [("hs_timestamp", "Activity date", "datetime"), ("hs_email_subject", "Email subject", "string")],
    "notes": [("hs_timestamp", "Activity date", "datetime"), ("hs_note_body", "Note body", "string")],
}
for _engagement in ("calls", "meetings", "emails", "notes"):
    PROPERTIES[_engagement].append(("hs_lastmodifieddate", "Last Modified Date", "datetime"))


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeHubSpot:
    vendor = "hubspot"

    def __init__(self, *, search_cap: int = 10_000, page_limit: int = 200) -> None:
        self.search_cap = search_cap
        self.page_limit = page_limit
        self.store: dict[str, dict[str, dict]] = {t: {} for types in OBJECT_TYPES.values() for t in types}
        # Each type's records in search order, (modified in ms, id): searches from a time are a bisection.
        self.order: dict[str, list[tuple[int, int]]] = {t: [] for t in self.store}
        self.ids = itertools.count(1001)
        self.lock = threading.RLock()
        self.client_id, self.client_secret = "fake-client-id", "fake-client-secret"
        self.access_token = f"access-{uuid.uuid4().hex}"
        self.refresh_token = f"refresh-{uuid.uuid4().hex}"
        self.valid_tokens = {self.access_token}
        self.rate_limited = 0
        self.retry_after = 0.1
        self.pages_before_failure: int | None = None
        self.rejected: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        self.refreshes = 0
        self.clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    # control interface --------------------------------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def settings(self) -> dict:
        return {
            "base_url": self.url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "search_cap": self.search_cap,
            "retry_after_max": 1,
        }

    def _tick(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=1)
        return self.clock

    def add(self, obj: str, fields: dict, account_crm_id: str | None = None, modified_at=None) -> str:
        fields = dict(fields)
        object_type = OBJECT_TYPES[obj][0]
        if obj == "activity":
            object_type = TYPE_OF_ENGAGEMENT[fields.pop("engagement_type", "call")]
        with self.lock:
            crm_id = str(next(self.ids))
            moment = modified_at or self._tick()
            properties = {k: None if v is None else str(v) for k, v in fields.items()}
            properties.update(hs_object_id=crm_id, hs_lastmodifieddate=iso(moment), hs_createdate=iso(moment))
            self.store[object_type][crm_id] = {
                "properties": properties,
                "modified": moment,
                "company": account_crm_id,
            }
            bisect.insort(self.order[object_type], (millis(moment), int(crm_id)))
        return crm_id

    def touch(self, obj: str, crm_id: str, fields: dict, modified_at=None) -> None:
        """The record is changed in the CRM (its last-modified time moves on)."""
        with self.lock:
            object_type = next(t for t in OBJECT_TYPES[obj] if crm_id in self.store[t])
            record = self.store[object_type][crm_id]
            record["properties"].update({k: None if v is None else str(v) for k, v in fields.items()})
            self._modified(object_type, crm_id, modified_at or self._tick())

    def _modified(self, object_type: str, crm_id: str, moment: dt.datetime) -> None:
        record = self.store[object_type][crm_id]
        self.order[object_type].remove((millis(record["modified"]), int(crm_id)))
        record["properties"]["hs_lastmodifieddate"] = iso(moment)
        record["modified"] = moment
        bisect.insort(self.order[object_type], (millis(moment), int(crm_id)))

    def records(self, obj: str) -> dict[str, dict]:
        with self.lock:
            return {
                crm_id: dict(record["properties"])
                for t in OBJECT_TYPES[obj]
                for crm_id, record in self.store[t].items()
            }

    def sample(self, obj: str, n: int) -> dict:
        """Fields of a plausible record number n, in HubSpot's property names (the sync's tests are vendor-blind)."""
        if obj == "account":
            return {
                "name": f"Company {n}",
                "domain": f"company{n}.example",
                "industry": "Software",
                "numberofemployees": 50 + n,
                "annualrevenue": 1_000_000 + n,
                "country": "France",
            }
        if obj == "contact":
            return {"firstname": f"Ada{n}", "lastname": "Lovelace", "email": f"ada{n}@company.example"}
        if obj == "opportunity":
            return {"dealname": f"Deal {n}", "amount": 1000 * n, "dealstage": "appointmentscheduled"}
        return {"engagement_type": "meeting", "hs_timestamp": "2026-01-02T10:00:00.000Z", "hs_meeting_title": "Demo"}

    def rate_limit_next(self, n: int, retry_after: float = 0.1) -> None:
        with self.lock:
            self.rate_limited, self.retry_after = n, retry_after

    def expire_token(self) -> None:
        with self.lock:
            self.valid_tokens.discard(self.access_token)

    def reject_updates_for(self, crm_id: str, message: str) -> None:
        self.rejected[str(crm_id)] = message

    def fail_after(self, n_pages: int | None) -> None:
        """Search pages past the next n answer 500 (None: never again)."""
        with self.lock:
            self.pages_before_failure = n_pages

    # serving ------------------------------------------------------------------------------------------------

    def search(self, object_type: str, body: dict) -> tuple[int, dict]:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
        if limit > self.page_limit:
            return 400, _error(f"limit must be at most {self.page_limit}", "VALIDATION_ERROR")
        if after + limit > self.search_cap:
            return 400, _error(
                f"The search API returns at most {self.search_cap} results: paging past them is refused.",
                "VALIDATION_ERROR",
            )
        with self.lock:
            if self.pages_before_failure is not None:
                if self.pages_before_failure <= 0:
                    return 500, _error("internal error", "INTERNAL_ERROR")
                self.pages_before_failure -= 1
            groups = body.get("filterGroups") or []
            sorts = body.get("sorts") or []
            sort = sorts[0] if sorts else {"propertyName": "hs_object_id", "direction": "ASCENDING"}
            if isinstance(sort, str):
                descending = sort.startswith("-")
                sort = {"propertyName": sort.lstrip("-"), "direction": "DESCENDING" if descending else "ASCENDING"}
            start = _start(groups) if sort == {"propertyName": MODIFIED, "direction": "ASCENDING"} else None
            if start is not None:
                # The adapter's searches (from a time, or after a record), by bisection: as HubSpot answers them.
                order = self.order[object_type]
                first = bisect.bisect_right(order, start)
                store = self.store[object_type]
                page = [(str(i), store[str(i)]) for _, i in order[first + after : first + after + limit]]
                total = len(order) - first
            else:
                page, total = self._scan(object_type, groups, sort, after, limit)
        wanted = body.get("properties") or None
        results = [_public(object_type, crm_id, record, wanted) for crm_id, record in page]
        answer = {"total": total, "results": results}
        if after + limit < total:
            answer["paging"] = {"next": {"after": str(after + limit), "link": None}}
        return 200, answer

    def _scan(self, object_type: str, groups: list, sort: dict, after: int, limit: int) -> tuple[list, int]:
        candidates = list(self.store[object_type].items())
        found = [(i, r) for i, r in candidates if not groups or any(_matches(r, g.get("filters", [])) for g in groups)]
        found.sort(key=lambda item: (_sort_value(item[1], sort["propertyName"]), int(item[0])))
        if sort.get("direction") == "DESCENDING":
            found.reverse()
        return found[after : after + limit], len(found)

    def associations(self, from_type: str, to_type: str, body: dict) -> tuple[int, dict]:
        results = []
        with self.lock:
            for item in body.get("inputs", []):
                record = self.store.get(from_type, {}).get(str(item.get("id")))
                if record is None or not record["company"] or to_type != "companies":
                    continue
                results.append(
                    {
                        "from": {"id": str(item["id"])},
                        "to": [
                            {
                                "toObjectId": int(record["company"]),
                                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}],
                            }
                        ],
                    }
                )
        now = iso(dt.datetime.now(dt.UTC))
        return 200, {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def batch_update(self, object_type: str, body: dict) -> tuple[int, dict]:
        inputs = body.get("inputs") or []
        if len(inputs) > 100:
            return 400, _error("Batch input is limited to 100 records.", "VALIDATION_ERROR")
        results, errors = [], []
        with self.lock:
            for item in inputs:
                crm_id = str(item.get("id"))
                record = self.store[object_type].get(crm_id)
                if record is None:
                    errors.append(_batch_error(crm_id, f"Object {crm_id} not found.", "OBJECT_NOT_FOUND"))
                    continue
                if crm_id in self.rejected:
                    errors.append(_batch_error(crm_id, self.rejected[crm_id], "VALIDATION_ERROR"))
                    continue
                record["properties"].update({k: None if v is None else str(v) for k, v in item["properties"].items()})
                self._modified(object_type, crm_id, self._tick())
                results.append(_public(object_type, crm_id, record, list(item["properties"])))
        now = iso(dt.datetime.now(dt.UTC))
        answer = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        if errors:
            answer.update(errors=errors, numErrors=len(errors))
            return 207, answer
        return 200, answer

    def token(self, form: dict) -> tuple[int, dict]:
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
            or form.get("refresh_token") != self.refresh_token
        ):
            return 400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}
        with self.lock:
            self.refreshes += 1
            self.access_token = f"access-{uuid.uuid4().hex}"
            self.valid_tokens = {self.access_token}
        return 200, {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": 1800,
            "token_type": "bearer",  # nosec B105: the OAuth token type, no secret
        }


def _error(message: str, category: str) -> dict:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}


def _batch_error(crm_id: str, message: str, category: str) -> dict:
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": {"ids": [crm_id]},
        "errors": [],
        "links": {},
    }


MODIFIED = "hs_lastmodifieddate"


def _start(groups: list) -> tuple[int, float] | None:
    """The (ms, id) key the matching records come after, in search order, for the filter shapes a pull sends: none;
    modified >= t; modified > t; (modified > t) or (modified = t and id > i). None for any other shape."""
    shapes = [sorted((f["propertyName"], f["operator"]) for f in g.get("filters", [])) for g in groups]
    if not groups:
        return (-1, 0)
    if shapes == [[(MODIFIED, "GTE")]]:
        return (int(groups[0]["filters"][0]["value"]) - 1, float("inf"))
    if shapes == [[(MODIFIED, "GT")]]:
        return (int(groups[0]["filters"][0]["value"]), float("inf"))
    if shapes == [[(MODIFIED, "GT")], sorted([("hs_object_id", "GT"), (MODIFIED, "EQ")])]:
        values = {f["propertyName"]: int(f["value"]) for f in groups[1]["filters"]}
        if values[MODIFIED] == int(groups[0]["filters"][0]["value"]):
            return (values[MODIFIED], values["hs_object_id"])
    return None


def _sort_value(record: dict, name: str):
    if name == "hs_lastmodifieddate":
        return record["modified"]
    if name == "hs_object_id":
        return int(record["properties"]["hs_object_id"])
    return record["properties"].get(name) or ""


def _filter_value(record: dict, name: str):
    if name == "hs_lastmodifieddate":
        return millis(record["modified"])
    if name == "hs_object_id":
        return int(record["properties"]["hs_object_id"])
    return record["properties"].get(name)


def _matches(record: dict, filters: list[dict]) -> bool:
    for f in filters:
        have = _filter_value(record, f["propertyName"])
        want = f.get("value")
        if isinstance(have, int):
            want = int(want)
        operator = f["operator"]
        if operator in ("EQ", "NEQ"):
            ok = (have == want) == (operator == "EQ")
        elif have is None:
            ok = False
        else:
            ok = {"GT": have > want, "GTE": have >= want, "LT": have < want, "LTE": have <= want}[operator]
        if not ok:
            return False
    return True


def _public(object_type: str, crm_id: str, record: dict, wanted: list[str] | None) -> dict:
    props = record["properties"]
    if wanted:
        shown = {k: props.get(k) for k in wanted}
        for k in ("hs_object_id", "hs_lastmodifieddate", "hs_createdate"):
            shown[k] = props.get(k)
    else:
        shown = dict(props)
    return {
        "id": crm_id,
        "properties": shown,
        "createdAt": props["hs_createdate"],
        "updatedAt": props["hs_lastmodifieddate"],
        "archived": False,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHubSpot
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        fake = self.fake
        path = urlsplit(self.path).path
        raw = self._body()
        fake.requests.append((method, path))
        if path == "/oauth/v1/token" and method == "POST":
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            return self._send(*fake.token(form))
        with fake.lock:
            if fake.rate_limited > 0:
                fake.rate_limited -= 1
                return self._send(
                    429,
                    {**_error("You have reached your secondly limit.", "RATE_LIMITS"), "errorType": "RATE_LIMIT"},
                    {"Retry-After": f"{fake.retry_after:g}"},
                )
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if token not in fake.valid_tokens:
            return self._send(
                401,
                _error("The OAuth token used to make this call expired 0 second(s) ago.", "EXPIRED_AUTHENTICATION"),
            )
        parts = [p for p in path.split("/") if p]
        body = json.loads(raw or b"{}") if method == "POST" else {}
        if method == "GET" and parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4:
            return self._send(200, {"results": [_property(parts[3], *p) for p in PROPERTIES.get(parts[3], [])]})
        objects = (
            method == "POST" and parts[:3] == ["crm", "v3", "objects"] and len(parts) > 3 and parts[3] in fake.store
        )
        if objects and parts[4:] == ["search"]:
            return self._send(*fake.search(parts[3], body))
        if objects and parts[4:] == ["batch", "update"]:
            return self._send(*fake.batch_update(parts[3], body))
        if method == "POST" and parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return self._send(*fake.associations(parts[3], parts[4], body))
        return self._send(404, _error(f"No route for {method} {path}", "OBJECT_NOT_FOUND"))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


def _property(object_type: str, name: str, label: str, kind: str) -> dict:
    return {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": {"number": "number", "datetime": "date", "enumeration": "select"}.get(kind, "text"),
        "description": "",
        "groupName": f"{object_type[:-1]}information",
        "options": [],
        "displayOrder": -1,
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": False,
        "hidden": False,
        "formField": True,
    }
