"""The analysis (fit, report, verdict) and its proposal: a draft model with new criterion points."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from core.jobs import job_create, job_progress
from core.models import Job
from segmentation.defaults import STANDARD_PERSONAS, STANDARD_SIGNAL_RULES
from segmentation.models import ICP, ScoringModel
from segmentation.scoring import SignalRule
from segmentation.selectors import active_model
from segmentation.services import icp_create, model_draft_create

from .data import (
    DealSet,
    Feature,
    _account_values,
    candidate_criteria,
    closed_deals,
    criteria_matrix,
    score_band_table,
    signal_points,
)
from .maths import (
    ALPHA,
    AUC_FLOOR,
    BAND_ATTRIBUTES,
    EQ_ATTRIBUTES,
    MAX_DEALS,
    MIN_DEALS,
    MIN_LOSSES,
    MIN_WINS,
    NO_SIGNAL,
    PROPOSAL,
    STEPS,
    TOO_LITTLE_DATA,
    VERDICT_LABELS,
    WinModel,
    calibration_points,
    feature_effects,
    lift_table,
    proposal_points,
    verdict_for,
    win_model_fit,
)

# --- The analysis and the proposal -------------------------------------------------------------------------------


@dataclass
class Recalibration:
    """The report (what the job stores) and, for whoever ran it in process, the deals of the held-out part."""

    report: dict
    deal_ids: list[int] = field(default_factory=list)
    test_rows: list[int] = field(default_factory=list)  # indexes into deal_ids
    draft: ScoringModel | None = None


def _model_rules(model: ScoringModel | None) -> tuple[list[SignalRule], float]:
    rules = model.signal_rules if model is not None else STANDARD_SIGNAL_RULES
    lookback = float(model.lookback_days) if model is not None else 365.0
    parsed = [
        SignalRule(
            kind=str(r["kind"]).strip(),
            points=float(r["points"]),
            half_life_days=float(r["half_life_days"]),
            max_points=float(r["max_points"]),
        )
        for r in rules or []
    ]
    return parsed, lookback


def recalibration_compute(
    *, model: ScoringModel | None, limit: int = MAX_DEALS, progress: Callable[[int], None] | None = None
) -> Recalibration:
    """Read the closed deals, build the features, fit and judge the win model; the report and its verdict (no
    draft is created here: see `recalibration_run`)."""
    step = progress or (lambda done: None)
    deals = closed_deals(limit=limit)
    n, wins = len(deals.deal_ids), int(deals.won.sum())
    report: dict[str, Any] = {
        "computed_at": timezone.now().isoformat(),
        "active_model": (
            {"id": model.pk, "version": model.version, "name": model.name, "icp": model.icp.name} if model else None
        ),
        "deals": n,
        "wins": wins,
        "losses": n - wins,
        "base_rate": round(100 * wins / n, 2) if n else None,
        "without_close_date": deals.without_close_date,
        "capped": deals.capped,
        "cap": limit,
        "requirements": {"deals": MIN_DEALS, "wins": MIN_WINS, "losses": MIN_LOSSES, "auc_floor": AUC_FLOOR},
        "score_bands": score_band_table(deals.unified, deals.won),
        "auc": None,
        "auc_low": None,
        "auc_high": None,
        "lift": [],
        "calibration": [],
        "ranking": [],
        "proposal": None,
    }
    step(1)
    if verdict_for(deals=n, wins=wins) == TOO_LITTLE_DATA:
        return _finish(report, TOO_LITTLE_DATA, deals=deals)

    active_criteria = model.current_criteria()[0] if model is not None else []
    needed = {str(c.get("attribute", "")).strip() for c in active_criteria} | set(EQ_ATTRIBUTES) | set(BAND_ATTRIBUTES)
    values_by_account = _account_values(sorted(set(deals.account_ids)), needed)
    deal_values = [values_by_account.get(a, {}) for a in deals.account_ids]
    design = criteria_matrix(active_criteria, candidate_criteria(deal_values), deals.account_ids, values_by_account)
    rules, lookback = _model_rules(model)
    signals = signal_points(rules, lookback, deals)
    signal_columns = [i for i in range(len(rules)) if signals[:, i].min() != signals[:, i].max()]
    matrix = np.column_stack([design.matrix, signals[:, signal_columns]])
    features = design.features + [
        Feature(kind="signal", label=f"{rules[i].kind} points", source="signal rule", signal_kind=rules[i].kind)
        for i in signal_columns
    ]
    report["features"] = {
        "criteria": len(design.features),
        "signals": len(signal_columns),
        "left_out": design.skipped + len(rules) - len(signal_columns),
    }
    step(2)
    if not features:
        report["message_detail"] = "No attribute or signal differs between these deals: there is nothing to learn."
        return _finish(report, NO_SIGNAL, deals=deals)

    fitted = win_model_fit(matrix, deals.won)
    test_won = deals.won[fitted.test]
    report.update(
        {
            "train": {"deals": len(fitted.train), "wins": int(deals.won[fitted.train].sum())},
            "test": {"deals": len(fitted.test), "wins": int(test_won.sum())},
            "auc": round(fitted.auc, 4),
            "auc_low": round(fitted.auc_low, 4),
            "auc_high": round(fitted.auc_high, 4),
            "lift": lift_table(test_won, fitted.predicted),
            "calibration": calibration_points(test_won, fitted.predicted),
            "ranking": _ranking(features, matrix, deals.won, fitted),
        }
    )
    step(3)
    verdict = verdict_for(deals=n, wins=wins, auc=fitted.auc, auc_low=fitted.auc_low)
    if verdict == PROPOSAL:
        report["proposal"] = {"criteria": proposal_points(report["ranking"])}
        if not report["proposal"]["criteria"]:
            report["proposal"] = None
            report["message_detail"] = (
                "The model ranks deals better than chance, but no fit criterion raises the win rate reliably "
                "(the signals carry the prediction): the ICP has nothing to change."
            )
            verdict = NO_SIGNAL
    return _finish(report, verdict, deals=deals, test_rows=fitted.test.tolist())


def _ranking(features: list[Feature], matrix: np.ndarray, won: np.ndarray, fitted: WinModel) -> list[dict]:
    """Every feature, most important first, with its effect; `meaningful` marks the criteria a proposal may use."""
    threshold = ALPHA / len(features)  # Bonferroni: every feature is a test
    rows = []
    for index, feature in enumerate(features):
        coefficient = float(fitted.coefficients[index])
        effects = feature_effects(matrix[:, index], won)
        meaningful = (
            feature.kind == "criterion"
            and coefficient > 0
            and effects["win_rate_matched"] is not None
            and effects["win_rate_unmatched"] is not None
            and effects["win_rate_matched"] > effects["win_rate_unmatched"]
            and effects["p_value"] < threshold
        )
        rows.append(
            {
                "label": feature.label,
                "kind": feature.kind,
                "source": feature.source,
                "criterion": feature.criterion,
                "signal_kind": feature.signal_kind,
                "coefficient": round(coefficient, 4),
                "odds_ratio": round(math.exp(max(-50.0, min(50.0, coefficient))), 3),
                "importance": round(float(fitted.importance[index]), 4),
                **effects,
                "p_value": float(f"{effects['p_value']:.3g}"),
                "meaningful": bool(meaningful),
            }
        )
    rows.sort(key=lambda r: (-r["importance"], r["label"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _finish(report: dict, verdict: str, *, deals: DealSet, test_rows: list[int] | None = None) -> Recalibration:
    report["verdict"] = verdict
    report["verdict_label"] = VERDICT_LABELS[verdict]
    report["message"] = verdict_message(report, verdict)
    return Recalibration(report=report, deal_ids=deals.deal_ids, test_rows=test_rows or [])


def verdict_message(report: dict, verdict: str) -> str:
    """The verdict in plain words, with the figures behind it."""
    n, wins, losses = report["deals"], report["wins"], report["losses"]
    if verdict == TOO_LITTLE_DATA:
        return (
            f"It needs at least {MIN_DEALS} closed deals with a close date, "
            f"{MIN_WINS} of them won and {MIN_LOSSES} lost; there are {n:,} ({wins:,} won, {losses:,} lost). "
            "Nothing is proposed."
        )
    auc = report.get("auc")
    figures = (
        f"held-out AUC {auc:.3f} (95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f}) "
        f"on {report['test']['deals']:,} of {n:,} closed deals"
        if auc is not None
        else f"{n:,} closed deals"
    )
    if verdict == NO_SIGNAL:
        detail = report.get("message_detail") or (
            f"The attributes and signals do not predict wins: {figures}; the interval includes 0.5, a coin toss. "
            "Win rates barely differ between these segments."
            if auc is not None and report["auc_low"] <= 0.5
            else f"The attributes and signals barely predict wins: {figures}, better than chance but below "
            f"{AUC_FLOOR}, too weak an effect to act on."
        )
        if report.get("message_detail") and auc is not None:
            detail += f" ({figures}.)"
        return f"{detail} No new points are proposed: they would be fitted to noise."
    count = len((report.get("proposal") or {}).get("criteria") or [])
    return (
        f"The model predicts wins: {figures}. A draft proposes new points for {count} "
        f"criteri{'on' if count == 1 else 'a'}; preview its impact, then publish it like any draft."
    )


def _unique_icp_name(base: str) -> str:
    base = base[:110]
    name, number = base, 2
    while ICP.objects.filter(name=name).exists():
        name, number = f"{base} #{number}", number + 1
    return name


def recalibration_draft_create(
    *, report: dict, model: ScoringModel | None, user, job: Job | None = None
) -> ScoringModel:
    """A new ICP with the proposed criteria (and the active ICP's exclusions) and a draft scoring model using it,
    copied from the active version, or from the defaults when none is active. Nothing is published."""
    today = timezone.now().date().isoformat()
    source = f" (from {model.icp.name})" if model is not None else ""
    marker = f" [recalibration job #{job.pk}]" if job is not None else ""
    notes = (
        f"Proposed by the recalibration of {today}{marker}: win-probability model on {report['deals']:,} closed deals "
        f"({report['wins']:,} won), held-out AUC {report['auc']:.3f} "
        f"(95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f}). Points scaled so the strongest criterion "
        "scores 100; "
        + (
            f"signal rules, weights and thresholds as in v{model.version}."
            if model is not None
            else "no version was active: the standard signal rules and buying group, default weights and thresholds."
        )
    )
    exclusions = model.current_criteria()[1] if model is not None else []
    with transaction.atomic():
        icp = icp_create(
            user=user,
            values={
                "name": _unique_icp_name(f"Recalibrated {today}{source}"),
                "description": notes,
                "criteria": report["proposal"]["criteria"],
                "exclusions": exclusions,
            },
        )
        defaults = (
            {}
            if model is not None
            else {
                "signal_rules": [dict(r) for r in STANDARD_SIGNAL_RULES],
                "required_personas": list(STANDARD_PERSONAS),
            }
        )
        return model_draft_create(
            user=user, based_on=model, icp=icp, name=f"Recalibrated {today}", notes=notes, **defaults
        )


def recalibration_run(*, user, job: Job | None = None, limit: int = MAX_DEALS) -> Recalibration:
    """The whole recalibration: the analysis with the active model, and a draft when the verdict is a proposal.

    A job run again (a retried task) reuses the draft its first run created rather than proposing twice."""
    model = active_model()

    def progress(done: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=STEPS)

    result = recalibration_compute(model=model, limit=limit, progress=progress)
    report = result.report
    if report["verdict"] == PROPOSAL:
        earlier = ScoringModel.objects.filter(notes__contains=f"[recalibration job #{job.pk}]").first() if job else None
        result.draft = earlier or recalibration_draft_create(report=report, model=model, user=user, job=job)
        report["proposal"].update(
            {
                "model_id": result.draft.pk,
                "version": result.draft.version,
                "icp_id": result.draft.icp_id,
                "icp_name": result.draft.icp.name,
            }
        )
        report["message"] = verdict_message(report, PROPOSAL) + f" Draft: v{result.draft.version}."
    report["summary"] = _summary(report)
    report["notes"] = [report["message"]]
    progress(STEPS)
    return result


def _summary(report: dict) -> dict:
    """The few figures the generic job page shows."""
    summary = {
        "verdict": report["verdict_label"],
        "closed deals": report["deals"],
        "won": report["wins"],
        "win rate %": report["base_rate"],
    }
    if report.get("auc") is not None:
        summary["held-out AUC"] = f"{report['auc']:.3f} ({report['auc_low']:.3f}-{report['auc_high']:.3f})"
    if report.get("proposal") and report["proposal"].get("version"):
        summary["draft"] = f"v{report['proposal']['version']}"
    return summary


def recalibration_job_start(*, user) -> Job:
    """Record a recalibration job and queue its task once the caller's transaction commits."""
    from ..tasks import recalibrate_task

    job = job_create(kind=Job.Kind.RECALIBRATE, created_by=user, title="recalibration from closed deals", total=STEPS)
    transaction.on_commit(lambda: recalibrate_task.delay(job.pk))
    return job


def recalibration_job_latest(*, finished: bool = False) -> Job | None:
    """The latest recalibration job (the latest succeeded one with `finished`)."""
    jobs = Job.objects.filter(kind=Job.Kind.RECALIBRATE)
    if finished:
        jobs = jobs.filter(status=Job.Status.SUCCEEDED)
    return jobs.select_related("created_by").order_by("-created_at", "-id").first()
