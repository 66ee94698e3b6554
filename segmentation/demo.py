"""The demo's ICP and first scoring model, published so every demo account has a score."""

from __future__ import annotations

from .defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from .models import ICP
from .services import active_model, model_draft_create, model_publish


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
    nothing)."""
    if active_model() is not None:
        out("Scoring: a model is already active; nothing to do.")
        return
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
