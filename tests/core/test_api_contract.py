"""What every API answer promises, whatever is asked: JSON, and a 4xx for bad input, never a 500."""

import pytest
from rest_framework.test import APIClient

from accounts.imports import import_records
from accounts.models import Signal

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world):
    client = APIClient()
    client.force_authenticate(world.admin)
    return client


@pytest.mark.parametrize("path", ["/api/v1/contacts/0.5/", "/api/v1/no-such-thing/", "/api/v1/accounts/abc/"])
def test_a_path_no_route_matches_answers_json(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json() == {"detail": "Not found."}


def test_a_page_no_route_matches_is_still_a_page(client, world):
    client.force_login(world.admin)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("name", ["occurred_after", "occurred_before"])
def test_a_datetime_filter_takes_any_offset_and_refuses_what_falls_off_the_calendar(api, world, name):
    import_records(kind="signals", records=[{"account": world.north_account.pk, "kind": "meeting",
                                            "occurred_at": "2024-05-19T12:00:00Z"}])  # fmt: skip
    # +16:00 is beyond what PostgreSQL reads in a literal: the moment is taken to UTC first.
    response = api.get("/api/v1/signals/", {name: "2024-05-20T03:34:52+16:00"})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == (1 if name == "occurred_after" else 0)  # 11:34:52Z, before the signal
    refused = api.get("/api/v1/signals/", {name: "0001-01-01T00:00:00+05:00"})
    assert refused.status_code == 400 and name in refused.json()


def test_an_imported_moment_that_falls_off_the_calendar_is_a_row_error(world):
    report = import_records(
        kind="signals",
        records=[
            {"account": world.north_account.pk, "kind": "meeting", "occurred_at": "0001-01-01T00:00:00+05:00"},
            {"account": world.north_account.pk, "kind": "meeting", "occurred_at": "2024-05-20T03:34:52+16:00"},
        ],
    )
    assert [(e.line, "out of range" in e.reason) for e in report.errors] == [(1, True)]
    assert Signal.objects.get().occurred_at.isoformat() == "2024-05-19T11:34:52+00:00"
