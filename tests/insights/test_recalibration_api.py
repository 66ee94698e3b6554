"""`/api/v1/recalibrations/`: an admin starts a recalibration (202, a job) and reads its report; a second run on the
same deals points at the same draft; bad bodies are refused field by field; reps and managers are refused."""

import pytest
from rest_framework.test import APIClient

from core.models import Job
from segmentation.models import ScoringModel

from .recalibration_data import active_model, planted_deals

URL = "/api/v1/recalibrations/"


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_admin_starts_one_and_reads_its_report(world, django_capture_on_commit_callbacks):
    active_model()
    planted_deals()
    api = api_for(world.admin)
    with django_capture_on_commit_callbacks(execute=True):  # the job's task, run once the request commits
        started = api.post(URL, {}, format="json")
    assert started.status_code == 202, started.content
    body = started.json()
    assert set(body) == {"id", "status", "url"}
    assert body["status"] == "queued"  # as it was answered: the task ran after
    assert body["url"] == f"http://testserver{URL}{body['id']}/"

    detail = api.get(body["url"])
    assert detail.status_code == 200
    job = detail.json()
    assert job["id"] == body["id"] and job["status"] == "succeeded", job["error"]
    assert job["percent"] == 100 and job["done"] == job["total"]
    assert job["params"] == {"target_mix": None, "as_of": "engaged"}
    assert job["created_by"] == "admin"
    report = job["report"]
    assert report["verdict"] == "proposal", report["message"]
    assert 0.5 < report["auc_low"] < report["auc"] < report["auc_high"]
    draft = ScoringModel.objects.get(status=ScoringModel.Status.DRAFT)
    assert report["proposal"]["model_id"] == draft.pk and report["proposal"]["version"] == draft.version
    assert report["deals"] == 600


def test_a_second_run_on_the_same_deals_points_at_the_same_draft(world, django_capture_on_commit_callbacks):
    active_model()
    planted_deals()
    api = api_for(world.admin)
    reports = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            started = api.post(URL, {"target_mix": "10,20,30,40"}, format="json")
        assert started.status_code == 202
        reports.append(api.get(started.json()["url"]).json()["report"])
    first, second = reports
    assert first["verdict"] == second["verdict"] == "proposal"
    assert second["proposal"]["model_id"] == first["proposal"]["model_id"]
    assert ScoringModel.objects.filter(status=ScoringModel.Status.DRAFT).count() == 1

    listed = api.get(URL).json()
    assert listed["count"] == 2 and [r["id"] for r in listed["results"]] == sorted(
        Job.objects.filter(kind=Job.Kind.RECALIBRATE).values_list("pk", flat=True), reverse=True
    )  # latest first


@pytest.mark.parametrize(
    ("body", "params"),
    [
        (
            {"target_mix": [10, 20, 30, 40], "as_of_field": "closed"},
            {"target_mix": [10, 20, 30, 40], "as_of": "closed"},
        ),
        ({"target_mix": " 5, 15,30, 50 "}, {"target_mix": [5, 15, 30, 50], "as_of": "engaged"}),
        ({"target_mix": None}, {"target_mix": None, "as_of": "engaged"}),
        ({"target_mix": ""}, {"target_mix": None, "as_of": "engaged"}),
    ],
)
def test_the_body_reaches_the_job(world, body, params):
    started = api_for(world.admin).post(URL, body, format="json")
    assert started.status_code == 202, started.content
    assert Job.objects.get(pk=started.json()["id"]).params == params


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"target_mix": "10,20,30"}, "target_mix", "A tier mix is four shares in per cent"),
        ({"target_mix": [10, 20, 30, 50]}, "target_mix", "The shares of the tier mix add up to 110%, not 100%."),
        ({"target_mix": "10,x,30,60"}, "target_mix", "Each share of the tier mix is a number of per cent"),
        ({"target_mix": [10, True, 30, 59]}, "target_mix", "Each share of the tier mix is a number of per cent"),
        ({"target_mix": {"tier_1": 10}}, "target_mix", 'Give the tier mix as "10,20,30,40" or as a list of four'),
        ({"as_of_field": "yesterday"}, "as_of_field", "Read the features as of one of: engaged"),
        ([10, 20, 30, 40], "non_field_errors", "Expected a dictionary"),
    ],
)
def test_a_bad_body_is_refused_with_the_field_and_the_reason(world, body, field, message):
    refused = api_for(world.admin).post(URL, body, format="json")
    assert refused.status_code == 400
    errors = refused.json()
    assert list(errors) == [field] and message in errors[field][0], errors
    assert not Job.objects.exists()


def test_reps_and_managers_are_refused(world):
    job = Job.objects.create(kind=Job.Kind.RECALIBRATE, created_by=world.admin, result={"verdict": "no_signal"})
    for user in (world.north_rep, world.rep, world.manager, world.other_manager, world.outsider):
        api = api_for(user)
        for response in (api.get(URL), api.get(f"{URL}{job.pk}/"), api.post(URL, {}, format="json")):
            assert response.status_code == 403, user
            assert response.json() == {"detail": "Only RevOps admins may do this."}
    assert APIClient().get(URL).status_code == 401
    assert Job.objects.count() == 1


def test_only_recalibrations_are_listed_and_read(world):
    other = Job.objects.create(kind=Job.Kind.ASSIGN, created_by=world.admin)
    api = api_for(world.admin)
    assert api.get(URL).json()["count"] == 0
    assert api.get(f"{URL}{other.pk}/").status_code == 404


def test_the_schema_documents_the_endpoints(world):
    from tests.test_api_fuzz import served_schema

    schema = served_schema()
    paths, components = schema["paths"], schema["components"]["schemas"]
    create = paths[URL]["post"]
    assert set(create["responses"]) >= {"202", "400", "401", "403"}
    assert set(components["RecalibrationStartRequest"]["properties"]) == {"target_mix", "as_of_field"}
    assert set(components["RecalibrationAccepted"]["properties"]) == {"id", "status", "url"}
    assert paths[f"{URL}{{id}}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Recalibration"
    }
    assert {"status", "percent", "params", "report"} <= set(components["Recalibration"]["properties"])
    assert "page" in {p["name"] for p in paths[URL]["get"]["parameters"]}  # paginated like the other lists
