"""Surging topics as a fit criterion: a published model gives its points to the accounts on which the topic surges,
through the SQL engine and the Python scoring alike, and explains them as "Surging topics include crm software"."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.criteria import LIST, attribute_type, criteria_errors, criterion_sentence
from accounts.criteria_forms import attribute_choices
from accounts.models import Account, Signal
from accounts.topics import topic_surges_refresh
from core.models import Job
from segmentation import services
from segmentation.engine import Plan, Selection, score_rows
from segmentation.engine.python import python_rows
from segmentation.explain import explain
from segmentation.models import AccountScore
from tests.factories import AccountFactory, ICPFactory, ScoringModelFactory

pytestmark = pytest.mark.django_db
TOPIC_CRITERION = {
    "group": "Intent",
    "attribute": "surging_topics",
    "operator": "contains",
    "value": "CRM software",
    "points": 25,
}


def burst(account, topic: str, count: int, now: dt.datetime) -> None:
    Signal.objects.bulk_create(
        [
            Signal(account=account, kind="content_download", topic=topic, occurred_at=now - dt.timedelta(hours=3 * i))
            for i in range(1, count + 1)
        ]
    )


def test_surging_topics_is_a_list_field_with_a_label_the_model_editor_offers():
    assert attribute_type("surging_topics") == LIST
    assert criteria_errors([TOPIC_CRITERION], keys=set()) == {}
    refused = criteria_errors([{**TOPIC_CRITERION, "operator": "gte", "value": 3}], keys=set())
    assert "does not apply to surging_topics (list)" in refused[0]["operator"]
    assert criterion_sentence("surging_topics", "contains", "crm software") == "Surging topics include crm software"
    fields = dict(attribute_choices(set())[1][1])
    assert fields["surging_topics"] == "Surging topics"


def test_a_published_model_gives_the_points_and_explains_them(django_capture_on_commit_callbacks):
    now = timezone.now()
    surging = AccountFactory(name="Surging", industry="Software", employee_count=500, country="France")
    quiet = AccountFactory(name="Quiet", industry="Software", employee_count=500, country="France")
    other = AccountFactory(name="Other topic", industry="Software", employee_count=500, country="France")
    burst(surging, "CRM Software", 8, now)
    burst(quiet, "CRM software", 2, now)  # too few to surge
    burst(other, "Payroll", 8, now)
    topic_surges_refresh(now=now)
    assert Account.objects.get(pk=surging.pk).surging_topics == ["crm software"]

    icp = ICPFactory(criteria=[*ICPFactory.build().criteria, TOPIC_CRITERION])
    model = ScoringModelFactory(icp=icp)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.model_publish(model=model, user=None, as_of=now)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    scores = {s.account.name: s for s in AccountScore.objects.select_related("account", "model__icp")}
    # Industry (30) + size (40) + topic (25) of 145 possible points, against the same account without the topic.
    assert scores["Surging"].fit > scores["Quiet"].fit == scores["Other topic"].fit
    explained = explain(scores["Surging"])
    intent = next(g for g in explained["fit"]["groups"] if g["group"] == "Intent")
    assert (intent["matched"], intent["points"]) == ("Surging topics include CRM software", 25.0)
    assert "Intent: Surging topics include CRM software (+25)" in explained["sentences"][0]
    assert not any("Surging topics" in s for s in explain(scores["Quiet"])["sentences"])

    # The engine as served (SQL on PostgreSQL) and the Python scoring give the same points for the criterion.
    plan = Plan.of(model)
    engine = {r.account_id: (r.fit, r.explanation["matched"]) for r in score_rows(plan, Selection(), now)}
    python = {r.account_id: (r.fit, r.explanation["matched"]) for r in python_rows(plan, Selection(), now)}
    assert engine == python
    topic_index = len(icp.criteria) - 1
    assert topic_index in engine[surging.pk][1] and topic_index not in engine[quiet.pk][1]
