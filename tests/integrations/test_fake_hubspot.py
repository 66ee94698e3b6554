"""The fake HubSpot answers the pull's searches by bisection: the same answers as filtering every record."""

import datetime as dt

from integrations.crm.fake_hubspot import MODIFIED, FakeHubSpot, _start, millis


def test_searches_by_bisection_answer_as_a_full_scan():
    fake = FakeHubSpot()
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(60):
        fake.add("account", {"name": f"C{i}"}, modified_at=moment + dt.timedelta(seconds=i // 7))
    t = str(millis(moment + dt.timedelta(seconds=3)))
    mid = sorted(fake.records("account"))[25]
    shapes = [
        [],
        [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": t}]}],
        [{"filters": [{"propertyName": MODIFIED, "operator": "GT", "value": t}]}],
        [
            {"filters": [{"propertyName": MODIFIED, "operator": "GT", "value": t}]},
            {
                "filters": [
                    {"propertyName": MODIFIED, "operator": "EQ", "value": t},
                    {"propertyName": "hs_object_id", "operator": "GT", "value": mid},
                ]
            },
        ],
    ]
    sort = {"propertyName": MODIFIED, "direction": "ASCENDING"}
    for groups in shapes:
        assert _start(groups) is not None, groups  # the bisection serves it
        status, answer = fake.search("companies", {"filterGroups": groups, "sorts": [sort], "limit": 10, "after": 10})
        scanned, total = fake._scan("companies", groups, sort, 10, 10)
        assert status == 200
        assert [r["id"] for r in answer["results"]] == [i for i, _ in scanned], groups
        assert answer["total"] == total
