"""Schema-driven fuzzing of /api/v1/: every operation in /api/schema/, as an admin and as a rep.

The schema is the one the app serves at /api/schema/ (a test checks they are equal); schemathesis generates
requests from it, valid (positive) and invalid (negative), sends them through config.wsgi's application with a DRF
token, and checks that no response is a 5xx and that each one is documented (status code, content type and body).
A stateful phase then chains operations along the links schemathesis infers (create, then read, change, delete
what was created). Deterministic (derandomized Hypothesis) and small, so it runs in every `make test`;
`make fuzz` runs it big (FUZZ_EXAMPLES examples per operation, default 10).
"""

import contextlib
import json
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from core.tokens import token_create

from .factories import ICPFactory, ScoringModelFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def served_schema() -> dict:
    """What /api/schema/?format=json serves: the same generator and renderer as SpectacularAPIView.

    Built at import time (schemathesis parametrizes at collection, before any database exists); the view itself
    needs a signed-in user, so `test_the_fuzzed_schema_is_the_served_one` proves the two agree.
    """
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


# Revoking API tokens is left out: a fuzzer guessing ids would revoke the very token it calls with, and every later
# call would stop at 401 (tests/core/test_api_tokens.py covers it).
schema = schemathesis.openapi.from_dict(served_schema()).exclude(method="DELETE", path_regex=r"^/api/v1/auth/tokens/")
schema.app = application
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Requests go through the WSGI handler, whose request signals close the database connection; the test's
    transaction lives on that connection (PostgreSQL), so keep it open, as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["admin", "rep"])
def api_token(request, world) -> str:
    """A DRF token for the world's admin or rep (a rep with one account and no territory)."""
    ScoringModelFactory(icp=ICPFactory())
    return token_create(getattr(world, request.param), name="fuzzing")[1]


def test_the_fuzzed_schema_is_the_served_one(client, world):
    client.force_login(world.admin)
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json() == served_schema()


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, api_token):
    case.call_and_validate(headers={"Authorization": f"Token {api_token}"}, checks=CHECKS)


def test_chained_operations_answer_as_documented(api_token):
    """The stateful phase: scenarios of linked calls (an account created, then read, changed, deleted...).

    Each scenario changes the database the next starts from, so Hypothesis cannot always replay a scenario the
    same way and may give up with `Flaky`, as schemathesis's own runner expects (it treats that as no finding):
    every response is checked as it arrives and a failing check is kept, so nothing found is lost either way."""
    failures = []

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {api_token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path}: {exc}")
                raise

    with contextlib.suppress(Flaky):
        Workflow.run(
            settings=settings(
                max_examples=max(3, EXAMPLES // 2),
                stateful_step_count=6,
                phases=[Phase.explicit, Phase.generate],
                database=None,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    assert failures == []
