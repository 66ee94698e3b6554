"""What a scoring model version's page shows of its backtest: the form that starts one, the running job's progress,
and the latest report as a side-by-side table of the version and the active one."""

from __future__ import annotations

from django import template

from core.roles import is_admin

from ..recalibration.backtest import (
    MIN_OUTCOME_LOSSES,
    MIN_OUTCOME_WINS,
    SHARE_AFTER,
    CutoffError,
    backtest_job_latest,
    default_cutoff,
    parse_cutoff,
)

register = template.Library()
DASH = "—"


def count_text(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def percent_text(value: float | None, decimals: int = 1) -> str:
    return DASH if value is None else f"{value:,.{decimals}f}%"


def auc_text(side: dict) -> str:
    if side.get("auc") is None:
        return DASH
    return f"{side['auc']:.3f} ({side['auc_low']:.3f}–{side['auc_high']:.3f})"


def win_rate_text(row: dict) -> str:
    if not row["accounts"]:
        return "no accounts"
    return (
        f"{percent_text(row['win_rate'])} ({row['low']:.1f}–{row['high']:.1f}%), "
        f"{row['wins']:,} of {row['accounts']:,} won"
    )


def lift_text(row: dict) -> str:
    lift = DASH if row["lift"] is None else f"{row['lift']:.2f}×"
    return f"{lift} ({percent_text(row['win_rate'])} won, mean score {row['mean_score']:.1f})"


def mix_text(row: dict) -> str:
    return f"{percent_text(row['share'])} ({row['accounts']:,})"


def mqa_text(side: dict) -> str:
    return f"{side['mqas']:,} ({percent_text(side['mqa_share'])} of accounts)"


def backtest_view(report: dict) -> dict:
    """The report as the page shows it: column heads and sections of rows, each cell's text formatted."""
    sides = report.get("models") or []

    def row(key: str, label: str, cell) -> dict:
        return {"key": key, "label": label, "cells": [cell(side) for side in sides]}

    def by_key(side: dict, part: str, key: str, value: str) -> dict:
        return next(item for item in side[part] if item[key] == value)

    sections = []
    if report.get("verdict") == "compared":
        sections.append(
            {
                "title": "Ranking of the accounts with an outcome",
                "rows": [row("auc", "AUC of the unified score (95% interval)", auc_text)],
            }
        )
    if sides:
        tiers = [(item["tier"], item["label"]) for item in sides[0]["win_rates"]]
        sections.append(
            {
                "title": "Win rate by tier (95% interval)",
                "rows": [
                    row(f"win-{tier}", label, lambda s, t=tier: win_rate_text(by_key(s, "win_rates", "tier", t)))
                    for tier, label in tiers
                ],
            }
        )
        if sides[0]["lift"]:
            bands = [(item["band"], item["label"]) for item in sides[0]["lift"]]
            sections.append(
                {
                    "title": "Lift by score quintile (win rate against the average)",
                    "rows": [
                        row(f"lift-{band}", label, lambda s, b=band: lift_text(by_key(s, "lift", "band", b)))
                        for band, label in bands
                    ],
                }
            )
        sections.append(
            {
                "title": "Tier mix as of the cutoff (share of all accounts)",
                "rows": [
                    row(f"mix-{tier}", label, lambda s, t=tier: mix_text(by_key(s, "tier_mix", "tier", t)))
                    for tier, label in tiers
                ],
            }
        )
        sections.append(
            {
                "title": "MQAs as of the cutoff",
                "rows": [row("mqas", "Accounts in an MQA tier with enough signal", mqa_text)],
            }
        )
    return {
        "heads": [f"{side['label']} (this version)" if side["role"] == "reviewed" else side["label"] for side in sides],
        "sections": sections,
        "accounts": count_text(report.get("accounts")),
        "outcomes": count_text(report.get("outcomes")),
        "won": count_text(report.get("won")),
        "lost": count_text(report.get("lost")),
        "win_rate": percent_text(report.get("win_rate")),
        "signals_read": count_text(report.get("signals_read")),
    }


@register.inclusion_tag("insights/backtest/_panel.html", takes_context=True)
def backtest_panel(context) -> dict:
    """The backtest panel of the version in the page's `model`; nothing for anyone but a RevOps admin."""
    request = context.get("request")
    model = context.get("model")
    if request is None or model is None or not is_admin(request.user):
        return {"show": False}
    typed = request.GET.get("backtest_cutoff")
    error = None
    if typed is not None:
        try:
            parse_cutoff(typed)
        except CutoffError as exc:
            error = str(exc)
    job = backtest_job_latest(model)
    report = job.result if job is not None and job.status == job.Status.SUCCEEDED else None
    return {
        "show": True,
        "model": model,
        "csrf_token": context.get("csrf_token"),
        "typed": typed or "",
        "error": error,
        "default": default_cutoff(),
        "share_after": round(100 * SHARE_AFTER),
        "min_wins": MIN_OUTCOME_WINS,
        "min_losses": MIN_OUTCOME_LOSSES,
        "job": job,
        "report": report,
        "view": backtest_view(report) if report else None,
    }
