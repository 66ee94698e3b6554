"""The Salesforce adapter, unchanged, against a local Salesforce org served over HTTPS (tests/integrations/fakes)."""

import datetime as dt
import email.utils
import json
import time
from urllib.parse import parse_qs

import pytest

from integrations.crm import salesforce
from integrations.crm.adapter import CrmError, PushResult, pages

from .fakes.salesforce import FakeSalesforce

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class _AnyQueryUrl(str):
    def __eq__(self, other):
        return isinstance(other, str) and other.startswith("/services/data/v62.0/query/01g")

    __hash__ = str.__hash__


ANY_URL = _AnyQueryUrl("a nextRecordsUrl")


@pytest.fixture
def org():
    fake = FakeSalesforce(page_size=4)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def tokens():
    return []


@pytest.fixture
def adapter(org, tokens):
    return salesforce.build(org.settings(), tokens.append)


def at(seconds, ms=0):
    return T0 + dt.timedelta(seconds=seconds, milliseconds=ms)


def soql_sent(org):
    return [call["query"]["q"][0] for call in org.calls if call["path"].endswith("/query/")]


def test_accounts_come_oldest_first_across_pages_of_next_records_urls(org, adapter):
    # Added out of order: Salesforce sorts them by SystemModstamp, then Id.
    for n in (7, 3, 9, 0, 5, 1, 8, 2, 6, 4):
        org.add(
            "account",
            {"Name": f"Acme {n}", "Website": f"acme{n}.com", "NumberOfEmployees": 10 * n, "AnnualRevenue": 1.5e6},
            modified_at=at(n),
        )

    result = list(pages(adapter, "account", None))

    assert [len(page.records) for page in result] == [4, 4, 2]
    assert [json.loads(page.next_cursor)["sobject"] for page in result[:-1]] == ["Account", "Account"]
    assert result[-1].next_cursor is None
    records = [record for page in result for record in page.records]
    assert [record.fields["Name"] for record in records] == [f"Acme {n}" for n in range(10)]
    assert [record.modified_at for record in records] == [at(n) for n in range(10)]
    first = records[0]
    assert first.fields["Website"] == "acme0.com" and first.fields["AnnualRevenue"] == 1.5e6
    assert "attributes" not in first.fields and first.account_crm_id is None
    # One SOQL query, then the batches it left behind through nextRecordsUrl.
    paths = [path for method, path in org.requests]
    assert paths[0] == "/services/data/v62.0/query/"
    assert all(path.startswith("/services/data/v62.0/query/01g") for path in paths[1:]) and len(paths) == 3
    assert soql_sent(org) == [
        "SELECT Id, SystemModstamp, Name, Website, Industry, NumberOfEmployees, AnnualRevenue, BillingCountry "
        "FROM Account ORDER BY SystemModstamp, Id"
    ]


def test_a_batch_of_two_thousand_records_is_salesforces_default_page():
    with FakeSalesforce() as org:
        for n in range(2003):
            org.add("contact", {"LastName": f"Doe {n}"}, modified_at=at(n))
        adapter = salesforce.build(org.settings(), lambda tokens: None)
        result = list(pages(adapter, "contact", None))
    assert [len(page.records) for page in result] == [2000, 3]
    assert len({record.crm_id for page in result for record in page.records}) == 2003


def test_contacts_and_opportunities_belong_to_their_account(org, adapter):
    account = org.add("account", {"Name": "Acme"}, modified_at=at(0))
    contact = org.add(
        "contact", {"FirstName": "Ada", "LastName": "Byron", "Email": "ada@acme.com"}, account, modified_at=at(1)
    )
    orphan = org.add("contact", {"LastName": "Nobody"}, modified_at=at(2))
    deal = org.add(
        "opportunity",
        {"Name": "Acme renewal", "Amount": 120000.0, "StageName": "Closed Won", "CloseDate": "2026-02-27"},
        account,
        modified_at=at(3),
    )

    contacts = {record.crm_id: record for record in adapter.changed("contact", None).records}
    opportunity = adapter.changed("opportunity", None).records[0]

    assert contacts[contact].account_crm_id == account and contacts[contact].fields["Email"] == "ada@acme.com"
    assert contacts[orphan].account_crm_id is None
    assert opportunity.crm_id == deal and opportunity.account_crm_id == account
    assert opportunity.fields["Amount"] == 120000.0 and opportunity.fields["CloseDate"] == "2026-02-27"
    assert opportunity.fields["IsWon"] is True and opportunity.fields["IsClosed"] is True


def ids_in_order(result):
    return [record.crm_id for page in result for record in page.records]


def test_activities_are_tasks_and_events_in_one_stream_oldest_first_across_pages(org, tokens):
    adapter = salesforce.build({**org.settings(), "page_size": 4}, tokens.append)
    account = org.add("account", {"Name": "Acme"}, modified_at=at(0))
    deal = org.add("opportunity", {"Name": "Acme renewal", "StageName": "Prospecting"}, account, modified_at=at(0))
    person = org.add("contact", {"LastName": "Byron"}, account, modified_at=at(0))
    tasks = [
        org.add("activity", {"Subject": f"Call {n}", "Type": "Call"}, account, modified_at=at(n)) for n in range(6)
    ]
    events = [
        org.add("activity", {"Subject": f"Demo {n}", "Type": "Meeting"}, account, modified_at=at(n), sobject="Event")
        for n in range(5)
    ]
    on_deal = org.add("activity", {"Subject": "Follow-up", "WhatId": deal}, modified_at=at(6))
    about = org.add("activity", {"Subject": "Intro", "WhoId": person}, modified_at=at(7))
    unrelated = org.add("activity", {"Subject": "Admin"}, modified_at=at(8))

    result = list(pages(adapter, "activity", None))

    # Tasks and events interleaved by SystemModstamp (then Id: a Task's 00T before an Event's 00U).
    interleaved = [x for pair in zip(tasks, events, strict=False) for x in pair] + [tasks[5], on_deal, about, unrelated]
    assert ids_in_order(result) == interleaved
    assert len(result) == 3 and result[-1].next_cursor is None
    assert [json.loads(page.next_cursor) for page in result[:-1]] == [
        {"from": "2026-03-02T09:00:03Z"},
        {"from": "2026-03-02T09:00:06Z"},
    ]
    queried = soql_sent(org)
    assert [q.split(" FROM ")[1].split(" ")[0] for q in queried] == ["Task", "Event"] * 3
    assert all(q.endswith("ORDER BY SystemModstamp, Id LIMIT 4") for q in queried)
    records = {record.crm_id: record for page in result for record in page.records}
    assert records[tasks[0]].account_crm_id == account and records[tasks[0]].fields["TaskSubtype"] == "Call"
    assert records[events[0]].account_crm_id == account and records[events[0]].fields["EventSubtype"] == "Event"
    # Salesforce's AccountId: the opportunity's account, the contact's account; none for a task about nothing.
    assert records[on_deal].account_crm_id == account and records[about].account_crm_id == account
    assert records[unrelated].account_crm_id is None


def test_activities_cut_short_by_salesforces_batch_size_are_not_lost(org, tokens):
    # Salesforce may answer a LIMIT 10 query in smaller batches (here 4, with a nextRecordsUrl).
    adapter = salesforce.build({**org.settings(), "page_size": 10}, tokens.append)
    stamped = []
    for n in range(9):
        stamped.append((at(n, ms=100), org.add("activity", {"Subject": f"Call {n}"}, modified_at=at(n, ms=100))))
        event = org.add("activity", {"Subject": f"Demo {n}"}, modified_at=at(n, ms=200), sobject="Event")
        stamped.append((at(n, ms=200), event))

    assert ids_in_order(pages(adapter, "activity", None)) == [crm_id for _stamp, crm_id in sorted(stamped)]


def test_a_second_holding_more_activities_than_a_page_is_read_to_its_end(org, tokens):
    adapter = salesforce.build({**org.settings(), "page_size": 4}, tokens.append)
    busy = [org.add("activity", {"Subject": f"Import {n}"}, modified_at=at(0, ms=n)) for n in range(6)]
    meetings = [
        org.add("activity", {"Subject": f"M {n}"}, modified_at=at(0, ms=500), sobject="Event") for n in range(3)
    ]
    after = org.add("activity", {"Subject": "Later"}, modified_at=at(1))

    result = list(pages(adapter, "activity", None))

    assert ids_in_order(result) == [*busy, *meetings, after]
    # The second is read sObject by sObject, the tasks through their nextRecordsUrl, then the stream moves on.
    assert [json.loads(page.next_cursor or "null") for page in result] == [
        {"second": "2026-03-02T09:00:00Z", "sobject": "Task", "next": ANY_URL},
        {"second": "2026-03-02T09:00:00Z", "sobject": "Event", "next": None},
        {"from": "2026-03-02T09:00:01Z"},
        None,
    ]
    assert "WHERE SystemModstamp >= 2026-03-02T09:00:00Z AND SystemModstamp < 2026-03-02T09:00:01Z" in soql_sent(org)[2]


def test_an_activity_without_account_id_belongs_to_the_account_it_is_related_to(org, adapter):
    account = org.add("account", {"Name": "Acme"}, modified_at=at(0))
    task = org.add("activity", {"Subject": "Call"}, account, modified_at=at(1))
    org.touch(task, modified_at=at(2), AccountId=None)  # e.g. a field the integration user may not read

    assert adapter.changed("activity", at(2)).records[0].account_crm_id == account


def test_since_takes_every_record_stamped_at_or_after_the_watermark_even_within_its_second(org, adapter):
    before = org.add("account", {"Name": "Before"}, modified_at=at(-1))
    same = [org.add("account", {"Name": f"Same {n}"}, modified_at=at(0, ms=250)) for n in range(5)]
    later = org.add("account", {"Name": "Later"}, modified_at=at(1))

    got = [r.crm_id for page in pages(adapter, "account", at(0, ms=250)) for r in page.records]

    # Five records share the watermark's timestamp and straddle a page boundary: none is lost.
    assert got == [*same, later] and before not in got
    assert "WHERE SystemModstamp >= 2026-03-02T09:00:00Z ORDER BY SystemModstamp, Id" in soql_sent(org)[0]


def test_a_proxys_429_is_retried_after_its_retry_after(org, adapter):
    org.add("account", {"Name": "Acme"}, modified_at=at(0))
    org.rate_limit_next(2, retry_after=0.3)

    started = time.monotonic()
    page = adapter.changed("account", None)

    assert time.monotonic() - started >= 0.6
    assert [r.fields["Name"] for r in page.records] == ["Acme"]
    assert [path for _m, path in org.requests].count("/services/data/v62.0/query/") == 3


def test_the_orgs_api_limit_is_waited_for_when_salesforce_says_how_long(org, adapter):
    org.add("account", {"Name": "Acme"}, modified_at=at(0))
    org.limit_exceeded_next(1, retry_after=0.2)

    assert len(adapter.changed("account", None).records) == 1
    assert len(org.requests) == 2


def test_the_orgs_api_limit_without_retry_after_fails_with_salesforces_message(org, adapter):
    org.limit_exceeded_next(1)

    with pytest.raises(CrmError, match="TotalRequests Limit exceeded"):
        adapter.changed("account", None)
    assert len(org.requests) == 1


def test_a_retry_after_beyond_the_bound_or_too_many_limits_fail_without_hammering(org, tokens):
    adapter = salesforce.build({**org.settings(), "max_retry_wait": 1, "max_retries": 2}, tokens.append)
    org.rate_limit_next(1, retry_after=3600)
    started = time.monotonic()
    with pytest.raises(CrmError, match="asks to wait 3600 s"):
        adapter.changed("account", None)
    assert time.monotonic() - started < 1

    org.rate_limit_next(3, retry_after=0)
    with pytest.raises(CrmError, match="API limit"):
        adapter.changed("account", None)
    assert len(org.requests) == 1 + 3


def test_an_expired_token_is_refreshed_stored_and_the_call_retried_once(org, adapter, tokens):
    org.add("account", {"Name": "Acme"}, modified_at=at(0))
    old = org.access_token
    org.expire_token()

    page = adapter.changed("account", None)

    assert [r.fields["Name"] for r in page.records] == ["Acme"]
    assert len(tokens) == 1 and tokens[0]["access_token"] == org.access_token != old
    assert tokens[0]["instance_url"] == org.url
    token_call = next(call for call in org.calls if call["path"] == "/services/oauth2/token")
    form = parse_qs(token_call["body"].decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [org.settings()["refresh_token"]]
    assert [m for m, _p in org.requests] == ["GET", "POST", "GET"]
    # The new token is used from then on: no second refresh.
    adapter.fields("account")
    assert org.refreshes == 1 and len(tokens) == 1


def test_a_rotated_refresh_token_and_a_moved_instance_are_stored_and_used(org, adapter, tokens):
    org.rotate_refresh_tokens = True
    org.instance_host = "localhost"  # the org now answers at another address
    org.expire_token()

    adapter.changed("account", None)
    first = tokens[-1]
    assert first["refresh_token"] == org.refresh_token and first["instance_url"].startswith("https://localhost:")
    assert [call["host"] for call in org.calls] == ["127.0.0.1", "127.0.0.1", "localhost"]

    org.expire_token()  # the next refresh must use the rotated refresh token
    adapter.changed("account", None)
    assert org.refreshes == 2 and tokens[-1]["refresh_token"] == org.refresh_token != first["refresh_token"]


def test_an_expired_query_locator_fails_so_the_sync_starts_again_from_its_watermark(org, adapter):
    stale = json.dumps({"sobject": "Account", "next": "/services/data/v62.0/query/01gexpired000000-2000"})
    with pytest.raises(CrmError, match="invalid query locator"):
        adapter.changed("account", None, stale)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_is_read_in_seconds_or_as_a_date(header, seconds):
    class Answer:
        headers = {"Retry-After": header} if header else {}

    assert salesforce._retry_after(Answer()) == seconds
    Answer.headers = {"Retry-After": email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))}
    assert 25 < salesforce._retry_after(Answer()) <= 30


def test_a_refused_refresh_fails_with_salesforces_reason_and_stores_nothing(org, adapter, tokens):
    org.expire_token()
    org.revoke_refresh_token()

    with pytest.raises(CrmError, match="expired access/refresh token"):
        adapter.changed("account", None)
    assert tokens == []


def test_a_connection_without_a_refresh_token_asks_to_be_connected_again(org, tokens):
    settings = {**org.settings(), "refresh_token": None}
    adapter = salesforce.build(settings, tokens.append)
    org.expire_token()
    with pytest.raises(CrmError, match="connect it to Salesforce again"):
        adapter.changed("account", None)


def test_push_goes_in_collections_of_200_and_reports_the_record_salesforce_refused(org, adapter):
    ids = [org.add("account", {"Name": f"Acme {n}"}, modified_at=at(n)) for n in range(450)]
    refused = ids[321]
    org.reject_updates_for(refused, "Tier must be one of Tier 1, Tier 2, Tier 3")
    updates = [
        (crm_id, {"RevOps_Score__c": 80 + n % 20, "RevOps_Tier__c": "Tier 1", "RevOps_Owner__c": "rep@example.com"})
        for n, crm_id in enumerate(ids)
    ]

    result = adapter.push("account", updates)

    batches = [json.loads(call["body"]) for call in org.calls if call["method"] == "PATCH"]
    assert [call["path"] for call in org.calls] == ["/services/data/v62.0/composite/sobjects"] * 3
    assert [len(batch["records"]) for batch in batches] == [200, 200, 50]
    assert all(batch["allOrNone"] is False for batch in batches)
    assert batches[0]["records"][0]["attributes"] == {"type": "Account"}
    assert [(e.crm_id, e.message) for e in result.errors] == [(refused, "Tier must be one of Tier 1, Tier 2, Tier 3")]
    assert result.updated == [crm_id for crm_id in ids if crm_id != refused]
    held = org.records("account")
    assert held[ids[0]]["RevOps_Score__c"] == 80 and held[ids[0]]["RevOps_Owner__c"] == "rep@example.com"
    assert held[refused]["RevOps_Score__c"] is None  # refused: unchanged
    assert held[ids[0]]["SystemModstamp"] > "2026-03-02T10"  # Salesforce stamps the update


def test_push_reports_unknown_fields_and_records_in_salesforces_words(org, adapter):
    account = org.add("account", {"Name": "Acme"}, modified_at=at(0))
    missing = "001000000000000AAA"

    deal = org.add("opportunity", {"Name": "Renewal", "StageName": "Prospecting"}, account, modified_at=at(0))

    result = adapter.push("account", [(account, {"Score__c": 5}), (missing, {"RevOps_Score__c": 5})])
    read_only = adapter.push("opportunity", [(deal, {"IsWon": True})])

    assert result.updated == []
    assert {e.crm_id: e.message for e in result.errors} == {
        account: "No such column 'Score__c' on sobject of type Account",
        missing: "invalid cross reference id",
    }
    assert read_only.errors[0].message.startswith("Unable to create/update fields: IsWon.")
    assert org.records("opportunity")[deal]["IsWon"] is False
    calls = len(org.calls)
    assert adapter.push("account", []) == PushResult() and len(org.calls) == calls


def test_push_to_activities_names_each_records_sobject(org, adapter):
    task = org.add("activity", {"Subject": "Call"}, modified_at=at(0))
    event = org.add("activity", {"Subject": "Demo"}, modified_at=at(0), sobject="Event")

    result = adapter.push("activity", [(task, {"Subject": "Call back"}), (event, {"Subject": "Demo, take 2"})])

    assert result.updated == [task, event]
    body = json.loads(org.calls[-1]["body"])
    assert [r["attributes"]["type"] for r in body["records"]] == ["Task", "Event"]
    assert org.records("activity")[event]["Subject"] == "Demo, take 2"


def test_fields_come_from_describe_with_their_labels(org, adapter):
    account_fields = dict(adapter.fields("account"))
    activity_fields = dict(adapter.fields("activity"))

    assert account_fields["Name"] == "Account Name" and account_fields["RevOps_Score__c"] == "RevOps Score"
    assert activity_fields["TaskSubtype"] == "Task Subtype" and activity_fields["EventSubtype"] == "Event Subtype"
    assert [p for _m, p in org.requests] == [
        "/services/data/v62.0/sobjects/Account/describe",
        "/services/data/v62.0/sobjects/Task/describe",
        "/services/data/v62.0/sobjects/Event/describe",
    ]


def test_extra_fields_named_in_the_settings_are_pulled_and_a_wrong_one_is_salesforces_error(org, tokens):
    org.add("account", {"Name": "Acme", "Segment__c": "Enterprise"}, modified_at=at(0))
    adapter = salesforce.build({**org.settings(), "fields": {"account": ["Segment__c"]}}, tokens.append)
    assert adapter.changed("account", None).records[0].fields["Segment__c"] == "Enterprise"

    adapter = salesforce.build({**org.settings(), "fields": {"account": ["Region__c"]}}, tokens.append)
    with pytest.raises(CrmError, match="No such column 'Region__c' on entity 'Account'"):
        adapter.changed("account", None)

    with pytest.raises(CrmError, match="not a Salesforce field name"):
        salesforce.build({**org.settings(), "fields": {"account": ["Name FROM User --"]}}, tokens.append).changed(
            "account", None
        )


@pytest.mark.parametrize("mode", ["error", "drop"])
def test_a_stream_broken_midway_raises_and_resumes_from_the_watermark_losing_nothing(org, adapter, mode):
    ids = [org.add("account", {"Name": f"Acme {n}"}, modified_at=at(n)) for n in range(10)]
    org.fail_after(2, mode=mode)

    seen, watermark = [], None
    with pytest.raises(CrmError):
        for page in pages(adapter, "account", None):
            seen += [record.crm_id for record in page.records]
            watermark = max(record.modified_at for record in page.records)
    assert seen == ids[:8]

    resumed = [record.crm_id for page in pages(adapter, "account", watermark) for record in page.records]

    assert resumed == ids[7:]  # from the watermark on: the record stamped at it again, then the rest
    assert set(seen) | set(resumed) == set(ids)


def test_an_activity_stream_broken_midway_resumes_from_the_watermark_losing_no_event(org, tokens):
    adapter = salesforce.build({**org.settings(), "page_size": 3}, tokens.append)
    stamped = []  # two calls a second, one meeting: a page of tasks ends sooner than a page of events
    for n in range(10):
        stamped.append((at(n, ms=100), org.add("activity", {"Subject": f"Call {n}"}, modified_at=at(n, ms=100))))
        stamped.append((at(n, ms=600), org.add("activity", {"Subject": f"Call {n}b"}, modified_at=at(n, ms=600))))
        event = org.add("activity", {"Subject": f"Demo {n}"}, modified_at=at(n, ms=200), sobject="Event")
        stamped.append((at(n, ms=200), event))
    every = [crm_id for _stamp, crm_id in sorted(stamped)]
    org.fail_after(5)  # query answers: two a page

    seen, watermark = [], None
    with pytest.raises(CrmError, match="unexpected error"):
        for page in pages(adapter, "activity", None):
            seen += [record.crm_id for record in page.records]
            watermark = max(record.modified_at for record in page.records)
    assert seen == every[:6]  # the seconds 0 and 1

    resumed = ids_in_order(pages(adapter, "activity", watermark))

    assert resumed == every[3:]  # again only what was stamped in the watermark's second
    assert set(seen) | set(resumed) == set(every)


def test_the_orgs_api_usage_is_kept_from_sforce_limit_info(org, adapter):
    org.api_limit = 15000
    adapter.changed("account", None)
    adapter.changed("contact", None)
    assert adapter.api_usage == {"api-usage": (2, 15000)}


def test_an_org_past_its_daily_limit_refuses_every_call(org, tokens):
    adapter = salesforce.build({**org.settings(), "max_api_share": 1.5}, tokens.append)
    org.api_limit = 1
    adapter.changed("account", None)
    with pytest.raises(CrmError, match="TotalRequests Limit exceeded"):
        adapter.changed("account", None)


def test_the_sync_leaves_the_rest_of_the_orgs_daily_calls_to_other_tools(org, tokens):
    adapter = salesforce.build({**org.settings(), "max_api_share": 0.5}, tokens.append)
    org.api_limit = 6
    org.api_used = 1  # another tool's call
    adapter.changed("account", None)
    adapter.changed("contact", None)
    with pytest.raises(CrmError, match="used 3 of its 6 daily API calls; the sync stops at 50%"):
        adapter.changed("opportunity", None)
    assert len(org.requests) == 2


def test_bad_objects_cursors_and_settings_are_clear_errors(org, adapter):
    with pytest.raises(CrmError, match="no 'lead' records"):
        adapter.changed("lead", None)
    with pytest.raises(CrmError, match="not a page of Salesforce Account records"):
        adapter.changed("account", None, json.dumps({"sobject": "Task", "next": None}))
    with pytest.raises(CrmError, match="not a page"):
        adapter.changed("account", None, "garbage")
    with pytest.raises(CrmError, match="lacks instance_url, access_token"):
        salesforce.build({}, lambda tokens: None)


def test_the_fake_answers_a_malformed_query_as_salesforce_does(org, adapter):
    with pytest.raises(CrmError, match="MALFORMED_QUERY"):
        adapter._call("query", lambda sf: sf.query("SELECT Id FROM Account WHERE"))
    with pytest.raises(CrmError, match="INVALID_TYPE"):
        adapter._call("query", lambda sf: sf.query("SELECT Id FROM Lead"))
    answer = adapter._call(
        "query",
        lambda sf: sf.query(
            "SELECT Id FROM Account WHERE (Name = 'A' OR Name IN ('B', 'C')) AND NOT Name = 'D' LIMIT 5"
        ),
    )
    assert answer == {"totalSize": 0, "done": True, "records": []}


def test_the_fields_the_sync_asks_for_are_read_where_the_org_has_them(org, tokens):
    """The sync names its mapping's and push fields (`extra_fields`); one the org lacks (a push field not created
    yet) is left out of the query rather than failing it. The adapter's own `fields` setting is read as well."""
    account = org.add("account", {"Name": "Acme", "RevOps_Tier__c": "Tier 2", "Region__c": "EMEA"}, modified_at=at(0))
    settings = {
        **org.settings(),
        "fields": {"account": ["Region__c"]},
        "extra_fields": {"account": ["RevOps_Tier__c", "RevOps_Missing__c"]},
    }
    adapter = salesforce.build(settings, tokens.append)
    [record] = adapter.changed("account", None).records
    assert record.crm_id == account
    assert record.fields["RevOps_Tier__c"] == "Tier 2" and record.fields["Region__c"] == "EMEA"
    assert "RevOps_Missing__c" not in record.fields
    assert adapter.suggested["account"]["employee_count"] == "NumberOfEmployees"


def test_the_connection_pages_base_url_is_the_instance_url(org, tokens):
    settings = {**org.settings(), "base_url": org.url}
    del settings["instance_url"]
    adapter = salesforce.build(settings, tokens.append)
    org.add("account", {"Name": "Acme"}, modified_at=at(0))
    assert [r.fields["Name"] for r in adapter.changed("account", None).records] == ["Acme"]
