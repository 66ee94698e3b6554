"""The recalibration page (admins): the latest report on closed deals, a button to run it again, CSV exports."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.criteria import criterion_sentence
from core.csvexport import streamed_csv
from core.decorators import admin_only
from core.tiers import LABELS as TIER_LABELS
from segmentation.definition import signal_kind_label
from segmentation.models import ScoringModel

from .forms import RecalibrationForm
from .recalibration import (
    AUC_FLOOR,
    DEFAULT_AS_OF,
    MIN_DEALS,
    MIN_LOSSES,
    MIN_SUPPORT,
    MIN_WINS,
    PROPOSAL,
    TIERS_IN_MIX,
    recalibration_job_latest,
    recalibration_job_start,
)
from .recalibration.analysis import current_mix
from .recalibration.features import NO_DECAY

RANKING_COLUMNS = [
    ("rank", "rank"),
    ("feature", "label"),
    ("kind", "kind"),
    ("source", "source"),
    ("importance", "importance"),
    ("coefficient", "coefficient"),
    ("odds_ratio", "odds_ratio"),
    ("support", "support"),
    ("win_rate_matched_pct", "win_rate_matched"),
    ("win_rate_unmatched_pct", "win_rate_unmatched"),
    ("p_value", "p_value_text"),
    ("proposed_points", "points"),
]
LIFT_COLUMNS = [
    ("band", "band"),
    ("label", "label"),
    ("deals", "deals"),
    ("wins", "wins"),
    ("win_rate_pct", "win_rate"),
    ("mean_predicted_pct", "predicted"),
    ("lift", "lift"),
]
SCORE_BAND_COLUMNS = [
    ("score_band", "band"),
    ("deals", "deals"),
    ("wins", "wins"),
    ("win_rate_pct", "win_rate"),
    ("ci95_low_pct", "low"),
    ("ci95_high_pct", "high"),
]


def _report() -> dict:
    job = recalibration_job_latest(finished=True)
    return job.result if job else {}


def calibration_chart(points: list[dict]) -> dict:
    """Chart.js line chart: observed vs predicted win rate (%) per bin, with the diagonal of perfect calibration."""
    values = [v for p in points for v in (p["predicted"], p["observed"])]
    low = max(0, int(min(values, default=0) // 10) * 10)
    high = min(100, int(-(-max(values, default=100) // 10)) * 10) or 100
    axis = {"type": "linear", "min": low, "max": high}
    return {
        "type": "line",
        "data": {
            "datasets": [
                {
                    "label": "Observed win rate",
                    "data": [{"x": p["predicted"], "y": p["observed"]} for p in points],
                    "borderColor": "#0d6efd",
                    "backgroundColor": "#0d6efd",
                },
                {
                    "label": "Perfectly calibrated",
                    "data": [{"x": low, "y": low}, {"x": high, "y": high}],
                    "borderColor": "#6c757d",
                    "borderDash": [6, 4],
                    "pointRadius": 0,
                },
            ]
        },
        "options": {
            "percentAxis": "y",
            "scales": {
                "x": {**axis, "title": {"display": True, "text": "Predicted win probability (%)"}},
                "y": {**axis, "title": {"display": True, "text": "Observed win rate"}},
            },
        },
    }


def _mix_rows(report: dict, current: list[float] | None) -> list[dict]:
    target = report.get("target_mix") or []
    achieved = report.get("achieved_mix") or []
    rows = []
    for index, tier in enumerate(TIERS_IN_MIX):
        rows.append(
            {
                "tier": TIER_LABELS.get(tier, tier),
                "current": current[index] if current else None,
                "target": target[index] if index < len(target) else None,
                "achieved": achieved[index] if index < len(achieved) else None,
            }
        )
    return rows


def _proposal_rows(report: dict) -> dict:
    """The proposal in words: criteria as sentences, signal rules by their kind's name, the thresholds."""
    proposal = report.get("proposal") or {}
    criteria = [
        {"group": c["group"], "sentence": criterion_sentence(c["attribute"], c["operator"], c.get("value")), **c}
        for c in sorted(proposal.get("criteria") or [], key=lambda c: (c["group"], -c["points"]))
    ]
    rules = [
        {
            **r,
            "label": signal_kind_label(r["kind"]),
            "counted": r["half_life_days"] >= NO_DECAY,
            "cap_signals": r["max_points"] / r["points"] if r["points"] else None,
        }
        for r in proposal.get("signal_rules") or []
    ]
    settings = proposal.get("settings") or {}
    tiers = [
        {
            "tier": TIER_LABELS.get(f"tier_{k}"),
            "enter": settings.get(f"tier{k}_enter"),
            "exit": settings.get(f"tier{k}_exit"),
            "min_fit": settings.get(f"tier{k}_min_fit"),
        }
        for k in (1, 2, 3)
    ]
    return {"criteria": criteria, "rules": rules, "settings": settings, "tiers": tiers}


def _initial(report: dict, current: list[float] | None) -> dict:
    mix = current or report.get("target_mix") or [10, 20, 30, 40]
    return {
        "tier_1": mix[0],
        "tier_2": mix[1],
        "tier_3": mix[2],
        "recycle": mix[3],
        "as_of": report.get("as_of") or DEFAULT_AS_OF,
    }


@admin_only
def recalibration_index(request, form: RecalibrationForm | None = None):
    latest = recalibration_job_latest()
    finished = recalibration_job_latest(finished=True)
    report = finished.result if finished else {}
    proposal = report.get("proposal") or {}
    draft = ScoringModel.objects.filter(pk=proposal["model_id"]).first() if proposal.get("model_id") else None
    current = current_mix()
    gbm, auc = report.get("gbm_auc"), report.get("auc")
    context = {
        "gbm_gain": round(gbm - auc, 3) if gbm is not None and auc is not None else None,
        "form": form or RecalibrationForm(initial=_initial(report, current)),
        "mix_rows": _mix_rows(report, current),
        "proposed": _proposal_rows(report),
        "current_mix": current,
        "latest": latest,
        "finished": finished,
        "report": report,
        "is_proposal": report.get("verdict") == PROPOSAL,
        "draft": draft,
        "chart": calibration_chart(report["calibration"]) if report.get("calibration") else None,
        "signals_in_ranking": any(r["kind"] == "signal" for r in report.get("ranking", [])),
        "features": report.get("features") if isinstance(report.get("features"), dict) else {},
        "requirements": {
            "deals": MIN_DEALS,
            "wins": MIN_WINS,
            "losses": MIN_LOSSES,
            "support": MIN_SUPPORT,
            "auc_floor": AUC_FLOOR,
        },
    }
    return render(request, "insights/recalibration/index.html", context)


@admin_only
@require_POST
def recalibration_start(request):
    form = RecalibrationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The recalibration did not start: correct the settings below.")
        return recalibration_index(request, form=form)
    job = recalibration_job_start(
        user=request.user, target_mix=form.cleaned_data["target_mix"], as_of=form.cleaned_data["as_of"]
    )
    job.refresh_from_db()
    if job.is_finished:
        messages.info(request, f"Recalibration finished (job #{job.pk}).")
    else:
        messages.info(request, f"Recalibration started (job #{job.pk}): the report appears here when it has finished.")
    return redirect("recalibration")


def _export(rows: list[dict], columns: list[tuple[str, str]], filename: str):
    return streamed_csv(
        filename=filename,
        header=[name for name, _ in columns],
        rows=([row.get(key) for _, key in columns] for row in rows),
    )


@admin_only
def recalibration_ranking_export(request):
    return _export(_report().get("ranking", []), RANKING_COLUMNS, "recalibration-ranking.csv")


@admin_only
def recalibration_lift_export(request):
    return _export(_report().get("lift", []), LIFT_COLUMNS, "recalibration-lift.csv")


@admin_only
def recalibration_score_band_export(request):
    return _export(_report().get("score_bands", []), SCORE_BAND_COLUMNS, "recalibration-score-bands.csv")
