"""A local Salesforce org: a real HTTPS server speaking the parts of Salesforce's REST API the adapter uses.

Endpoints, with Salesforce's documented shapes:
- POST /services/oauth2/token               grant_type=refresh_token -> {access_token, instance_url, id, token_type,
                                              issued_at, signature}; {error, error_description} with a 400.
- GET  /services/data/vXX.X/query?q=SOQL    {totalSize, done, records: [{attributes: {type, url}, ...}],
                                              nextRecordsUrl}; a subset of SOQL (SELECT fields FROM sObject
                                              [WHERE comparisons with AND/OR/NOT/IN/parentheses] [ORDER BY ...]
                                              [LIMIT n]); batches of `page_size` (2,000 like Salesforce, or what the
                                              Sforce-Query-Options header's batchSize asks, 200 to 2,000).
- GET  /services/data/vXX.X/query/<locator>-<offset>    the next batch (nextRecordsUrl).
- GET  /services/data/vXX.X/sobjects/<sObject>/describe {name, label, keyPrefix, fields: [{name, label, type, ...}]}.
- PATCH /services/data/vXX.X/composite/sobjects         sObject Collections update: {allOrNone, records: [{attributes:
                                              {type}, id, fields...}]} (at most 200) -> [{id, success, errors:
                                              [{statusCode, message, fields}]}], in the records' order.
Errors of a whole call: [{"message", "errorCode"}] (401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED, 400
MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE, 404 NOT_FOUND, 500 UNKNOWN_EXCEPTION). Every API answer carries
`Sforce-Limit-Info: api-usage=<used>/<limit>`; past the limit the org answers 403 REQUEST_LIMIT_EXCEEDED.

It serves HTTPS (simple-salesforce only speaks https://) with a certificate made for 127.0.0.1; `settings()` names it
as the CA bundle to trust.

The control interface is the one every fake CRM shares (see integrations/crm/adapter.py and the sync's tests).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import secrets
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API_VERSION = "62.0"
CLIENT_ID = "3MVG9fake.consumer.key"
CLIENT_SECRET = "fake-consumer-secret"
ORG_ID = "00D5g000004FAKEEAA"

OBJECT_SOBJECTS = {
    "account": ("Account",),
    "contact": ("Contact",),
    "opportunity": ("Opportunity",),
    "activity": ("Task", "Event"),
}
KEY_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "Task": "00T", "Event": "00U"}

_AUDIT = [
    ("CreatedDate", "Created Date", "datetime", False),
    ("LastModifiedDate", "Last Modified Date", "datetime", False),
    ("SystemModstamp", "System Modstamp", "datetime", False),
    ("IsDeleted", "Deleted", "boolean", False),
]
# (name, label, type, updateable)
SCHEMA = {
    "Account": [
        ("Id", "Account ID", "id", False),
        ("Name", "Account Name", "string", True),
        ("Website", "Website", "url", True),
        ("Industry", "Industry", "picklist", True),
        ("NumberOfEmployees", "Employees", "int", True),
        ("AnnualRevenue", "Annual Revenue", "currency", True),
        ("BillingCountry", "Billing Country", "string", True),
        ("OwnerId", "Owner ID", "reference", True),
        *_AUDIT,
        ("RevOps_Score__c", "RevOps Score", "double", True),
        ("RevOps_Tier__c", "RevOps Tier", "picklist", True),
        ("RevOps_Owner__c", "RevOps Owner", "email", True),
        ("RevOps_MQA_Status__c", "RevOps MQA Status", "picklist", True),
    ],
    "Contact": [
        ("Id", "Contact ID", "id", False),
        ("FirstName", "First Name", "string", True),
        ("LastName", "Last Name", "string", True),
        ("Email", "Email", "email", True),
        ("Title", "Title", "string", True),
        ("AccountId", "Account ID", "reference", True),
        *_AUDIT,
    ],
    "Opportunity": [
        ("Id", "Opportunity ID", "id", False),
        ("Name", "Name", "string", True),
        ("Amount", "Amount", "currency", True),
        ("StageName", "Stage", "picklist", True),
        ("CloseDate", "Close Date", "date", True),
        ("IsWon", "Won", "boolean", False),
        ("IsClosed", "Closed", "boolean", False),
        ("AccountId", "Account ID", "reference", True),
        *_AUDIT,
    ],
    "Task": [
        ("Id", "Activity ID", "id", False),
        ("Subject", "Subject", "combobox", True),
        ("Type", "Type", "picklist", True),
        ("TaskSubtype", "Task Subtype", "picklist", False),
        ("ActivityDate", "Due Date Only", "date", True),
        ("Status", "Status", "picklist", True),
        ("WhatId", "Related To ID", "reference", True),
        ("WhoId", "Name ID", "reference", True),
        ("AccountId", "Account ID", "reference", False),
        *_AUDIT,
    ],
    "Event": [
        ("Id", "Activity ID", "id", False),
        ("Subject", "Subject", "combobox", True),
        ("Type", "Type", "picklist", True),
        ("EventSubtype", "Event Subtype", "picklist", False),
        ("ActivityDate", "Due Date Only", "date", True),
        ("ActivityDateTime", "Due Date Time", "datetime", True),
        ("DurationInMinutes", "Duration", "int", True),
        ("WhatId", "Related To ID", "reference", True),
        ("WhoId", "Name ID", "reference", True),
        ("AccountId", "Account ID", "reference", False),
        *_AUDIT,
    ],
}
LABELS = {"Account": "Account", "Contact": "Contact", "Opportunity": "Opportunity", "Task": "Task", "Event": "Event"}


# -- ids, times ------------------------------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, the number in base 62, and the case-safe checksum."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    short = (prefix + "5g" + digits.rjust(10, "0"))[:15]
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, char in enumerate(short[chunk * 5 : chunk * 5 + 5]) if "A" <= char <= "Z")
        suffix += _SUFFIX[bits]
    return short + suffix


def sf_datetime(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


# -- a subset of SOQL ------------------------------------------------------------------------------------------------


class SoqlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"\s*(?:(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<string>'(?:\\.|[^'\\])*')"
    r"|(?P<op>>=|<=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)


def _tokens(soql: str) -> list[tuple[str, object]]:
    tokens, position = [], 0
    soql = soql.strip()
    while position < len(soql):
        match = _TOKEN.match(soql, position)
        if not match or match.end() == position:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{soql[position : position + 20]}'")
        position = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "datetime":
            tokens.append(("value", dt.datetime.fromisoformat(text.replace("Z", "+00:00"))))
        elif kind == "date":
            tokens.append(("value", dt.date.fromisoformat(text)))
        elif kind == "number":
            tokens.append(("value", float(text) if "." in text else int(text)))
        elif kind == "string":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", text[1:-1])))
        elif kind == "word" and text.lower() in ("true", "false", "null"):
            tokens.append(("value", {"true": True, "false": False, "null": None}[text.lower()]))
        elif kind == "word":
            tokens.append(("word", text))
        else:
            tokens.append((kind, text))
    return tokens


class _Parser:
    def __init__(self, soql):
        self.tokens = _tokens(soql)
        self.at = 0

    def peek_word(self, *words):
        if self.at < len(self.tokens):
            kind, text = self.tokens[self.at]
            return kind == "word" and text.upper() in words
        return False

    def take(self, kind=None, word=None):
        if self.at >= len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", f"unexpected end of query, expecting {word or kind}")
        token = self.tokens[self.at]
        if (kind and token[0] != kind) or (word and (token[0] != "word" or token[1].upper() != word)):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{token[1]}'")
        self.at += 1
        return token[1]

    def parse(self):
        self.take(word="SELECT")
        fields = [self.take("word")]
        while self.at < len(self.tokens) and self.tokens[self.at] == ("punct", ","):
            self.at += 1
            fields.append(self.take("word"))
        self.take(word="FROM")
        sobject = self.take("word")
        where = order = limit = None
        if self.peek_word("WHERE"):
            self.at += 1
            where = self.expression()
        if self.peek_word("ORDER"):
            self.at += 1
            self.take(word="BY")
            order = [self.ordering()]
            while self.at < len(self.tokens) and self.tokens[self.at] == ("punct", ","):
                self.at += 1
                order.append(self.ordering())
        if self.peek_word("LIMIT"):
            self.at += 1
            limit = self.take("value")
        if self.at != len(self.tokens):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{self.tokens[self.at][1]}'")
        return fields, sobject, where, order, limit

    def ordering(self):
        name = self.take("word")
        descending = False
        if self.peek_word("ASC", "DESC"):
            descending = self.take("word").upper() == "DESC"
        return name, descending

    def expression(self):
        node = self.conjunction()
        while self.peek_word("OR"):
            self.at += 1
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self):
        node = self.factor()
        while self.peek_word("AND"):
            self.at += 1
            node = ("and", node, self.factor())
        return node

    def factor(self):
        if self.peek_word("NOT"):
            self.at += 1
            return ("not", self.factor())
        if self.at < len(self.tokens) and self.tokens[self.at] == ("punct", "("):
            self.at += 1
            node = self.expression()
            self.take("punct")
            return node
        name = self.take("word")
        if self.peek_word("IN", "NOT"):
            negated = self.take("word").upper() == "NOT"
            if negated:
                self.take(word="IN")
            self.take("punct")
            values = [self.take("value")]
            while self.tokens[self.at] == ("punct", ","):
                self.at += 1
                values.append(self.take("value"))
            self.take("punct")
            return ("not in" if negated else "in", name, values)
        operator = self.take("op")
        return (operator, name, self.take("value"))


def _comparable(stored, literal):
    """The stored JSON value in the literal's type, as Salesforce compares them."""
    if stored is None:
        return None
    if isinstance(literal, dt.datetime):
        return dt.datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    if isinstance(literal, dt.date):
        return dt.date.fromisoformat(stored[:10]) if isinstance(stored, str) else stored
    return stored


def _matches(node, record, canonical) -> bool:
    operator = node[0]
    if operator == "and":
        return _matches(node[1], record, canonical) and _matches(node[2], record, canonical)
    if operator == "or":
        return _matches(node[1], record, canonical) or _matches(node[2], record, canonical)
    if operator == "not":
        return not _matches(node[1], record, canonical)
    value = record.get(canonical(node[1]))
    if operator in ("in", "not in"):
        found = any(_comparable(value, literal) == literal for literal in node[2])
        return found if operator == "in" else not found
    literal = node[2]
    value = _comparable(value, literal)
    if operator == "=":
        return value == literal
    if operator in ("!=", "<>"):
        return value != literal
    if value is None or literal is None:
        return False
    return {">": value > literal, ">=": value >= literal, "<": value < literal, "<=": value <= literal}[operator]


# -- TLS -------------------------------------------------------------------------------------------------------------

_CERT: tuple[str, str] | None = None
_CERT_LOCK = threading.Lock()


def _certificate() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (made once per test process): (cert path, key path)."""
    global _CERT
    with _CERT_LOCK:
        if _CERT is None:
            import ipaddress

            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID

            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake salesforce")])
            now = dt.datetime.now(dt.UTC)
            certificate = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(
                    x509.SubjectAlternativeName(
                        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                    ),
                    critical=False,
                )
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256())
            )
            folder = Path(tempfile.mkdtemp(prefix="fake-salesforce-"))
            (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
            (folder / "key.pem").write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
            _CERT = (str(folder / "cert.pem"), str(folder / "key.pem"))
        return _CERT


# -- the org ---------------------------------------------------------------------------------------------------------


class FakeSalesforce:
    vendor = "salesforce"

    def __init__(self, page_size: int = 2000, api_limit: int = 100_000, api_version: str = API_VERSION):
        self.page_size = page_size
        self.api_limit = api_limit
        self.api_used = 0
        self.api_version = api_version
        self.lock = threading.RLock()
        self.data: dict[str, dict[str, dict]] = {sobject: {} for sobject in SCHEMA}
        self.schema = {sobject: list(fields) for sobject, fields in SCHEMA.items()}
        self.numbers = itertools.count(1)
        self.locators: dict[str, dict] = {}
        self.access_tokens = {f"{ORG_ID[:15]}!{secrets.token_urlsafe(24)}"}
        self.access_token = next(iter(self.access_tokens))
        self.refresh_token = f"5Aep861fake{secrets.token_urlsafe(24)}"
        self.refreshes = 0
        self.rotate_refresh_tokens = False  # the connected app's "refresh token rotation"
        self.instance_host = "127.0.0.1"  # what the token endpoint names as the instance (an org moved: "localhost")
        self.throttled: list[tuple[int, str, float | None]] = []  # (status, errorCode, retry_after) for next calls
        self.rejections: dict[str, str] = {}
        self.pages_served = 0
        self.break_after: int | None = None
        self.break_mode = "error"
        self.requests: list[tuple[str, str]] = []
        self.calls: list[dict] = []  # method, path, query, body: for assertions on what was sent
        self.server: ThreadingHTTPServer | None = None
        self.url = ""
        # The org's clock: it starts at the wall clock's second and each change without a given time is a second
        # after the last, so records differ in their SystemModstamp as they would over a working day.
        self.clock = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def _tick(self, given: dt.datetime | None = None) -> dt.datetime:
        """The stamp of a change: `given`, or a second after the latest one (the clock never goes back)."""
        with self.lock:
            if given is not None:
                if given.tzinfo is None:
                    given = given.replace(tzinfo=dt.UTC)
                self.clock = max(self.clock, given)
                return given
            self.clock += dt.timedelta(seconds=1)
            return self.clock

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        cert, key = _certificate()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-salesforce", daemon=True
        ).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def settings(self) -> dict:
        return {
            "instance_url": self.url,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "token_url": f"{self.url}/services/oauth2/token",
            "api_version": self.api_version,
            "ca_bundle": _certificate()[0],
            "max_retry_wait": 5,
        }

    # -- records -----------------------------------------------------------------------------------------------

    def add(self, obj, fields: dict, account_crm_id=None, modified_at=None, sobject=None) -> str:
        """A record of the product's object (an activity is a Task unless `sobject="Event"`), as Salesforce would
        hold it; fields Salesforce does not know are created as custom fields."""
        sobject = sobject or OBJECT_SOBJECTS[obj][0]
        with self.lock:
            crm_id = salesforce_id(KEY_PREFIXES[sobject], next(self.numbers))
            stamp = sf_datetime(self._tick(modified_at))
            record = {name: None for name, *_ in self.schema[sobject]}
            known = {name.lower(): name for name in record}
            for name, value in fields.items():
                if name.lower() not in known:
                    self.schema[sobject].append((name, name.replace("__c", "").replace("_", " "), "string", True))
                    known[name.lower()] = name
                record[known[name.lower()]] = _stored(value)
            if account_crm_id and sobject in ("Contact", "Opportunity"):
                record["AccountId"] = account_crm_id
            if sobject in ("Task", "Event"):
                if account_crm_id:
                    record["WhatId"] = account_crm_id
                record["AccountId"] = self._activity_account(record)
            if sobject == "Task" and not record.get("TaskSubtype"):
                record["TaskSubtype"] = "Call" if record.get("Type") == "Call" else "Task"
            if sobject == "Event":
                record["EventSubtype"] = "Event"
            if sobject == "Opportunity":
                stage = (record.get("StageName") or "").lower()
                record["IsClosed"] = bool(record.get("IsClosed")) or stage.startswith("closed")
                record["IsWon"] = bool(record.get("IsWon")) or stage == "closed won"
            record.update(Id=crm_id, CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp, IsDeleted=False)
            self.data[sobject][crm_id] = record
            return crm_id

    def _activity_account(self, record) -> str | None:
        """Salesforce fills a Task's or Event's AccountId: the account it is related to (WhatId), the account of
        the opportunity it is related to, else the account of the contact it is about (WhoId)."""
        what, who = record.get("WhatId") or "", record.get("WhoId") or ""
        if what.startswith(KEY_PREFIXES["Account"]):
            return what
        if what in self.data["Opportunity"]:
            return self.data["Opportunity"][what].get("AccountId")
        if who in self.data["Contact"]:
            return self.data["Contact"][who].get("AccountId")
        return None

    def records(self, obj) -> dict[str, dict]:
        with self.lock:
            return {
                crm_id: dict(record)
                for sobject in OBJECT_SOBJECTS[obj]
                for crm_id, record in self.data[sobject].items()
            }

    def touch(self, *args, modified_at=None, **fields) -> None:
        """Someone edits the record in Salesforce: new values and a new SystemModstamp. Called as every fake CRM is,
        `touch(obj, crm_id, {field: value}, modified_at=None)`, or `touch(crm_id, modified_at=None, **fields)`."""
        if len(args) >= 2 and args[0] in OBJECT_SOBJECTS:
            _obj, crm_id, *rest = args
            fields = {**(rest[0] if rest else {}), **fields}
        else:
            (crm_id,) = args
        with self.lock:
            record = next(data[crm_id] for data in self.data.values() if crm_id in data)
            known = {name.lower(): name for name in record}  # Salesforce's field names are case-insensitive
            record.update({known.get(name.lower(), name): _stored(value) for name, value in fields.items()})
            record["SystemModstamp"] = record["LastModifiedDate"] = sf_datetime(self._tick(modified_at))

    def sample(self, obj: str, n: int) -> dict:
        """Fields of a plausible record number n, in Salesforce's field names (the sync's tests are vendor-blind)."""
        if obj == "account":
            return {
                "Name": f"Company {n}",
                "Website": f"https://company{n}.example",
                "Industry": "Software",
                "NumberOfEmployees": 50 + n,
                "AnnualRevenue": 1_000_000 + n,
                "BillingCountry": "France",
            }
        if obj == "contact":
            return {"FirstName": f"Ada{n}", "LastName": "Lovelace", "Email": f"ada{n}@company.example"}
        if obj == "opportunity":
            return {"Name": f"Deal {n}", "Amount": 1000 * n, "StageName": "Prospecting", "CloseDate": "2026-06-30"}
        return {"Subject": "Demo", "Type": "Meeting", "ActivityDate": "2026-01-02"}

    # -- faults ------------------------------------------------------------------------------------------------

    def rate_limit_next(self, n: int, retry_after: float | None = 0.1) -> None:
        """The next n API calls answer 429 (a proxy's rate limit) with Retry-After."""
        with self.lock:
            self.throttled = [(429, "REQUEST_LIMIT_EXCEEDED", retry_after)] * n

    def limit_exceeded_next(self, n: int, retry_after: float | None = None) -> None:
        """The next n API calls answer 403 REQUEST_LIMIT_EXCEEDED (the org's API limit), with Retry-After if given."""
        with self.lock:
            self.throttled = [(403, "REQUEST_LIMIT_EXCEEDED", retry_after)] * n

    def expire_token(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def revoke_refresh_token(self) -> None:
        with self.lock:
            self.refresh_token = None

    def reject_updates_for(self, crm_id, message) -> None:
        with self.lock:
            self.rejections[crm_id] = message

    def fail_after(self, n_pages: int | None, mode: str = "error") -> None:
        """After n more query pages, the next page request fails once: a 500 (`mode="error"`) or a connection closed
        without an answer (`mode="drop"`). The org then works again, so a sync can resume. None: never."""
        with self.lock:
            self.pages_served = 0
            self.break_after = n_pages
            self.break_mode = mode

    # -- the API -----------------------------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict:
        return {
            "name": sobject,
            "label": LABELS.get(sobject, sobject),
            "labelPlural": LABELS.get(sobject, sobject) + "s",
            "keyPrefix": KEY_PREFIXES[sobject],
            "custom": False,
            "queryable": True,
            "updateable": True,
            "fields": [
                {
                    "name": name,
                    "label": label,
                    "type": kind,
                    "updateable": updateable,
                    "createable": updateable,
                    "custom": name.endswith("__c"),
                    "nillable": name not in ("Id", "Name", "LastName", "StageName", "CloseDate"),
                }
                for name, label, kind, updateable in self.schema[sobject]
            ],
            "urls": {"describe": f"/services/data/v{self.api_version}/sobjects/{sobject}/describe"},
        }

    def query(self, soql: str, batch_size: int) -> dict:
        fields, sobject, where, order, limit = _Parser(soql).parse()
        canonical_sobject = next((name for name in SCHEMA if name.lower() == sobject.lower()), None)
        if canonical_sobject is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"\n{soql}\nsObject type '{sobject}' is not supported. If you are attempting to use a custom object,"
                " be sure to append the '__c' after the entity name.",
            )
        known = {name.lower(): name for name, *_ in self.schema[canonical_sobject]}

        def canonical(name):
            if name.lower() not in known:
                raise SoqlError("INVALID_FIELD", f"\n{soql}\nNo such column '{name}' on entity '{canonical_sobject}'.")
            return known[name.lower()]

        selected = [canonical(name) for name in fields]
        rows = [r for r in self.data[canonical_sobject].values() if where is None or _matches(where, r, canonical)]
        for name, descending in reversed(order or []):
            key = canonical(name)
            rows.sort(key=lambda r, k=key: (r[k] is not None, r[k] if r[k] is not None else ""), reverse=descending)
        if limit is not None:
            rows = rows[: int(limit)]
        locator = "01g" + secrets.token_hex(8)[:15]
        self.locators[locator] = {"sobject": canonical_sobject, "fields": selected, "ids": [r["Id"] for r in rows]}
        return self.batch(locator, 0, batch_size)

    def batch(self, locator: str, offset: int, batch_size: int) -> dict:
        cursor = self.locators[locator]
        ids = cursor["ids"]
        sobject = cursor["sobject"]
        chunk = ids[offset : offset + batch_size]
        records = []
        for crm_id in chunk:
            record = self.data[sobject].get(crm_id)
            if record is None:
                continue
            url = f"/services/data/v{self.api_version}/sobjects/{sobject}/{crm_id}"
            records.append({"attributes": {"type": sobject, "url": url}, **{f: record[f] for f in cursor["fields"]}})
        answer = {"totalSize": len(ids), "done": offset + batch_size >= len(ids), "records": records}
        if not answer["done"]:
            answer["nextRecordsUrl"] = f"/services/data/v{self.api_version}/query/{locator}-{offset + batch_size}"
        return answer

    def update(self, body: dict) -> list[dict]:
        all_or_none = bool(body.get("allOrNone"))
        results, changes = [], []
        for item in body.get("records", []):
            crm_id = item.get("id")
            sobject = (item.get("attributes") or {}).get("type")
            errors = []
            record = self.data.get(sobject, {}).get(crm_id) if sobject else None
            if sobject not in self.data:
                errors.append(("INVALID_TYPE", f"sObject type '{sobject}' is not supported.", []))
            elif record is None:
                errors.append(("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []))
            else:
                fields = {name: value for name, value in item.items() if name not in ("attributes", "id")}
                schema = {name.lower(): (name, updateable) for name, _l, _k, updateable in self.schema[sobject]}
                for name in fields:
                    if name.lower() not in schema:
                        errors.append(("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}", []))
                    elif not schema[name.lower()][1]:
                        errors.append(
                            (
                                "INVALID_FIELD_FOR_INSERT_UPDATE",
                                f"Unable to create/update fields: {name}. Please check the security settings of this"
                                " field and verify that it is read/write for your profile or permission set.",
                                [name],
                            )
                        )
                if crm_id in self.rejections and not errors:
                    errors.append(("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.rejections[crm_id], []))
                if not errors:
                    changes.append((record, {schema[name.lower()][0]: _stored(v) for name, v in fields.items()}))
            if errors:
                results.append(
                    {
                        "success": False,
                        "errors": [
                            {"statusCode": code, "message": message, "fields": f} for code, message, f in errors
                        ],
                    }
                )
            else:
                results.append({"id": crm_id, "success": True, "errors": []})
        if all_or_none and any(not result["success"] for result in results):
            rolled_back = {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using AllOrNone"
                " header",
                "fields": [],
            }
            return [
                {"success": False, "errors": result["errors"] or [rolled_back]} for result in results
            ]  # nothing written
        stamp = sf_datetime(self._tick())
        for record, values in changes:
            record.update(values)
            record["SystemModstamp"] = record["LastModifiedDate"] = stamp
        return results


def _stored(value):
    if isinstance(value, dt.datetime):
        return sf_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _handler(org: FakeSalesforce):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeSalesforce/1.0"

        def log_message(self, *args):
            pass

        def answer(self, status, body, headers=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def error(self, status, code, message, headers=None):
            self.answer(status, [{"message": message, "errorCode": code}], headers)

        def do_GET(self):
            self.route("GET")

        def do_POST(self):
            self.route("POST")

        def do_PATCH(self):
            self.route("PATCH")

        def route(self, method):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with org.lock:
                org.requests.append((method, parts.path))
                org.calls.append(
                    {
                        "method": method,
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "body": raw,
                        "host": self.headers.get("Host", "").rsplit(":", 1)[0],
                    }
                )
            if parts.path == "/services/oauth2/token" and method == "POST":
                return self.token(parse_qs(raw.decode()))
            prefix = f"/services/data/v{org.api_version}/"
            if not parts.path.startswith(prefix):
                return self.error(404, "NOT_FOUND", "The requested resource does not exist")
            self.api(method, parts.path[len(prefix) :].rstrip("/"), parse_qs(parts.query), raw)

        def token(self, form):
            def one(name):
                return (form.get(name) or [""])[0]

            if one("grant_type") != "refresh_token":
                return self.answer(
                    400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
                )
            if one("client_id") != CLIENT_ID or one("client_secret") != CLIENT_SECRET:
                return self.answer(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
            with org.lock:
                if not org.refresh_token or one("refresh_token") != org.refresh_token:
                    return self.answer(
                        400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
                    )
                org.access_token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(24)}"
                org.access_tokens.add(org.access_token)
                org.refreshes += 1
                token = org.access_token
                rotated = {}
                if org.rotate_refresh_tokens:
                    org.refresh_token = rotated["refresh_token"] = f"5Aep861fake{secrets.token_urlsafe(24)}"
                instance_url = org.url.replace("127.0.0.1", org.instance_host)
            self.answer(
                200,
                {
                    "access_token": token,
                    "signature": secrets.token_urlsafe(32),
                    "scope": "refresh_token api",
                    "instance_url": instance_url,
                    "id": f"{instance_url}/id/{ORG_ID}/0055g00000FAKEUAAR",
                    **rotated,
                    "token_type": "Bearer",
                    "issued_at": str(int(dt.datetime.now(dt.UTC).timestamp() * 1000)),
                },
            )

        def api(self, method, path, query, raw):
            authorization = self.headers.get("Authorization", "")
            with org.lock:
                if not authorization.startswith("Bearer ") or authorization[7:] not in org.access_tokens:
                    return self.error(401, "INVALID_SESSION_ID", "Session expired or invalid")
                if org.throttled:
                    status, code, retry_after = org.throttled.pop(0)
                    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
                    message = "TotalRequests Limit exceeded." if status == 403 else "Too many requests"
                    return self.error(status, code, message, headers)
                org.api_used += 1
                if org.api_used > org.api_limit:
                    return self.error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
                limit = {"Sforce-Limit-Info": f"api-usage={org.api_used}/{org.api_limit}"}
                is_page = method == "GET" and (path == "query" or path.startswith("query/"))
                if is_page and org.break_after is not None and org.pages_served >= org.break_after:
                    org.break_after = None
                    if org.break_mode == "drop":
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return None
                    return self.error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please try again.")
                try:
                    body = self.serve(method, path, query, raw)
                except SoqlError as error:
                    return self.error(400, error.code, error.message, limit)
                except LookupError:
                    return self.error(404, "NOT_FOUND", "The requested resource does not exist", limit)
                except ValueError as error:
                    return self.error(400, "JSON_PARSER_ERROR", f"The request body could not be read: {error}", limit)
                if is_page:
                    org.pages_served += 1
            self.answer(200, body, limit)

        def serve(self, method, path, query, raw):
            batch_size = org.page_size
            options = self.headers.get("Sforce-Query-Options", "")
            if match := re.search(r"batchSize=(\d+)", options):
                batch_size = min(max(int(match.group(1)), 200), 2000, org.page_size)
            if method == "GET" and path == "query":
                return org.query((query.get("q") or [""])[0], batch_size)
            if method == "GET" and path.startswith("query/"):
                locator, _, offset = path[len("query/") :].partition("-")
                if locator not in org.locators:
                    raise SoqlError("INVALID_QUERY_LOCATOR", "invalid query locator")
                return org.batch(locator, int(offset or 0), batch_size)
            if method == "GET" and (match := re.fullmatch(r"sobjects/(\w+)/describe", path)):
                sobject = next((name for name in SCHEMA if name.lower() == match.group(1).lower()), None)
                if sobject is None:
                    raise LookupError(match.group(1))
                return org.describe(sobject)
            if method == "PATCH" and path == "composite/sobjects":
                body = json.loads(raw or b"{}")
                if len(body.get("records", [])) > 200:
                    raise SoqlError(
                        "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call"
                    )
                return org.update(body)
            raise LookupError(path)

    return Handler


FakeCrm = FakeSalesforce  # the name the vendor-neutral sync tests use for "this vendor's fake"
