"""The recalibration page (admins): the latest report on closed deals, a button to run it again, CSV exports."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.csvexport import streamed_csv
from core.decorators import admin_only
from segmentation.models import ScoringModel

from .recalibration import (
    AUC_FLOOR,
    MIN_DEALS,
    MIN_LOSSES,
    MIN_SUPPORT,
    MIN_WINS,
    PROPOSAL,
    recalibration_job_latest,
    recalibration_job_start,
)

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
    ("p_value", "p_value"),
    ("proposed", "meaningful"),
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


@admin_only
def recalibration_index(request):
    latest = recalibration_job_latest()
    finished = recalibration_job_latest(finished=True)
    report = finished.result if finished else {}
    proposal = report.get("proposal") or {}
    draft = ScoringModel.objects.filter(pk=proposal["model_id"]).first() if proposal.get("model_id") else None
    context = {
        "latest": latest,
        "finished": finished,
        "report": report,
        "is_proposal": report.get("verdict") == PROPOSAL,
        "draft": draft,
        "chart": calibration_chart(report["calibration"]) if report.get("calibration") else None,
        "signals_in_ranking": any(r["kind"] == "signal" for r in report.get("ranking", [])),
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
    job = recalibration_job_start(user=request.user)
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
