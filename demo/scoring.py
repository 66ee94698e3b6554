"""The demo's ICP and first scoring model, published so every demo account has a score."""

from __future__ import annotations

from accounts.models import Account
from core.models import Job
from insights.tasks import potential_refresh_task
from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from segmentation.models import ICP
from segmentation.selectors import active_model
from segmentation.services import model_draft_create, model_publish, rescore_job_run_here, rescore_job_start


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


def demo_scoring(*, out=print, refresh_potential: bool = True) -> None:
    """Create the demo ICP and publish a first model, unless a model is already active (loading twice changes
    nothing), and wait for its rescore; then the spend potential, when the data changed or some account lacks it."""
    published = False
    if active_model() is not None:
        out("Scoring: a model is already active; nothing to do.")
    else:
        _publish_demo_model(out=out)
        published = True
    unscored = Account.objects.filter(score__isnull=True).count()
    if unscored:
        job = rescore_job_start(title="demo: accounts without a score", enqueue=False)
        rescore_job_run_here(job)
        out(f"Scoring: {unscored} accounts had no score; rescore job #{job.pk}.")
    missing = Account.objects.filter(potential__isnull=True).exists()
    if published or refresh_potential or missing:
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
    job = rescore_job_run_here(job)  # already done where tasks run here; the load waits for it either way
    out(f"Scoring: published {model.name} v{model.version}; rescore job #{job.pk} {job.get_status_display().lower()}.")


def _refresh_potential(*, out) -> None:
    """Spend potential from the demo's closed deals, computed here once the scores are in (a job: its statistics
    explain the numbers on the account pages)."""
    jobs = Job.objects.filter(kind=Job.Kind.POTENTIAL).order_by("-pk")
    before = jobs.values_list("pk", flat=True).first() or 0
    potential_refresh_task.apply()
    job = jobs.filter(pk__gt=before).first()
    if job is None or job.status != Job.Status.SUCCEEDED:
        raise RuntimeError(f"Spend potential was not computed: {job.error if job else 'no job ran'}")
    out(f"Spend potential: {job.result.get('message') or ''} (job #{job.pk}).")
