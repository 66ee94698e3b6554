"""The demo's ICP and first scoring model, published so every demo account has a score."""

from __future__ import annotations

from core.models import Job
from insights.tasks import potential_refresh_task
from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from segmentation.models import ICP
from segmentation.selectors import active_model
from segmentation.services import model_draft_create, model_publish


def _c(group: str, attribute: str, operator: str, value, points: float) -> dict:
    return {"group": group, "attribute": attribute, "operator": operator, "value": value, "points": points}


DEMO_ICP = {
    "name": "Mid-market and enterprise, tech first",
    "description": "US companies of 1,000+ employees in technology, software and telecoms; finance and medical next.",
    "criteria": [
        _c("Industry", "industry", "in", ["software", "technolgy", "telecommunications"], 30),
        _c("Industry", "industry", "in", ["finance", "medical"], 20),
        _c("Size", "employee_count", "between", [1000, 10000], 30),
        _c("Size", "employee_count", "gte", 10001, 20),
        _c("Size", "employee_count", "between", [200, 999], 15),
        _c("Size", "employee_count", "lte", 199, -10),
        _c("Revenue", "annual_revenue", "gte", 1_000_000_000, 20),
        _c("Revenue", "annual_revenue", "between", [250_000_000, 999_999_999.99], 10),
        _c("Geography", "country", "eq", "United States", 20),
    ],
    "exclusions": [{"attribute": "is_customer", "operator": "eq", "value": True}],
}


def demo_scoring(*, out=print) -> None:
    """Create the demo ICP and publish a first model, unless a model is already active (loading twice changes
    nothing); then the spend potential."""
    if active_model() is not None:
        out("Scoring: a model is already active; nothing to do.")
    else:
        _publish_demo_model(out=out)
    _refresh_potential(out=out)


def _publish_demo_model(*, out) -> None:
    icp, _ = ICP.objects.get_or_create(
        name=DEMO_ICP["name"], defaults={k: v for k, v in DEMO_ICP.items() if k != "name"}
    )
    model = model_draft_create(
        user=None,
        icp=icp,
        name="Demo scoring",
        notes="First version: fit 60%, signals 30%, buying group 10%.",
        signal_rules=[dict(rule) for rule in STANDARD_SIGNAL_RULES],
        required_personas=list(STANDARD_PERSONAS),
    )
    job = model_publish(model=model, user=None)
    out(f"Scoring: published {model.name} v{model.version}; rescore job #{job.pk}.")


def _refresh_potential(*, out) -> None:
    """Spend potential from the demo's closed deals: at once when tasks run in this process (the rescore has just
    finished), else queued for the worker, which waits for the rescore."""

    jobs = Job.objects.filter(kind=Job.Kind.POTENTIAL).order_by("-pk")
    before = jobs.values_list("pk", flat=True).first() or 0
    potential_refresh_task.delay()
    job = jobs.filter(pk__gt=before).first()
    if job is not None and job.is_finished:
        out(f"Spend potential: {job.result.get('message') or job.error} (job #{job.pk}).")
    else:
        out("Spend potential: queued; the worker computes it once the rescore has finished.")
