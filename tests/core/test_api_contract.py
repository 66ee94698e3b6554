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


@pytest.mark.parametrize("path", ["/api/v1/accounts/", "/api/v1/contacts/", "/api/v1/icps/"])
def test_a_search_the_database_cannot_take_is_refused_as_an_object(api, path):
    response = api.get(path, {"search": "a\x00b"})
    assert response.status_code == 400 and response.json() == {"detail": "Null characters are not allowed."}


def test_a_pending_handoff_and_a_job_answer_as_their_schema_says(api, world):
    from core.jobs import job_create
    from handoffs.services import handoffs_create
    from tests.factories import MQAFactory

    handoffs_create([MQAFactory(account=world.north_account).pk])
    handoff = api.get("/api/v1/handoffs/").json()["results"][0]
    assert handoff["reason"] == ""
    job = job_create(kind="rescore", title="by the system")  # no user started it
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["created_by"] is None
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert schema["Job"]["properties"]["created_by"].get("nullable") is True
    reason = schema["Handoff"]["properties"]["reason"]
    assert any(option.get("$ref", "").endswith("BlankEnum") for option in reason.get("oneOf", [])), reason


def test_the_conflicts_the_api_answers_are_documented(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path, method in [
        ("/api/v1/icps/{id}/", "delete"),
        ("/api/v1/scoring-models/{id}/", "put"),
        ("/api/v1/scoring-models/{id}/", "patch"),
        ("/api/v1/scoring-models/{id}/", "delete"),
        ("/api/v1/scoring-models/{id}/publish/", "post"),
        ("/api/v1/scoring-models/{id}/restore/", "post"),
    ]:
        assert "409" in paths[path][method]["responses"], (path, method)


@pytest.mark.parametrize("headers", [{"HTTP_ACCEPT": "text/html"}, {"HTTP_ACCEPT": "*/*"}])
def test_the_api_answers_json_whatever_is_asked(api, headers):
    response = api.get("/api/v1/accounts/", **headers)
    assert response.status_code in (200, 406)
    assert response["Content-Type"].startswith("application/json")
    assert api.get("/api/v1/accounts/", {"format": "api"})["Content-Type"].startswith("application/json")
