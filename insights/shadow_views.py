"""The shadow comparison (admins and managers), its API twin, and promoting the shadow version (admins)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from core.decorators import admin_only, role_required
from core.roles import ADMIN, MANAGER, is_admin
from segmentation.history import preview_in_words
from segmentation.selectors import active_model
from segmentation.services import latest_preview, model_problems, model_publish, shadow_model

from .forms import KpiFilterForm
from .kpi_views import scope_words
from .shadow import Comparison, Side, period_phrase, shadow_comparison, shadow_tier_counts

DASH = "—"


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}%"


def _interval(pair: tuple[float, float] | None, *, percent: bool = False) -> str:
    if pair is None:
        return DASH
    return f"{pair[0]:.1f}%–{pair[1]:.1f}%" if percent else f"{pair[0]:.2f}–{pair[1]:.2f}"


def _number(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def _side_words(side: Side) -> dict:
    return {
        "name": side.name,
        "version": f"v{side.model.version}" if side.model else "none",
        "auc": _number(side.auc),
        "auc_interval": _interval(side.auc_interval),
        "r": _number(side.r),
        "r_interval": _interval(side.r_interval),
    }


def comparison_words(comparison: Comparison) -> dict:
    """The comparison as the page shows it: one row per band with both sides' counts, rates and intervals."""
    sides = comparison.sides
    bands = []
    if sides and sides[0].bands:
        for live, shadow in zip(sides[0].bands, sides[1].bands, strict=True):
            bands.append(
                {
                    "label": live.label,
                    "cells": [
                        {
                            "n": f"{b.n:,}",
                            "wins": f"{b.wins:,}",
                            "rate": _pct(b.rate),
                            "interval": _interval(b.interval, percent=True),
                        }
                        for b in (live, shadow)
                    ],
                }
            )
    return {
        "sides": [_side_words(s) for s in sides],
        "bands": bands,
        "n": f"{comparison.n:,}",
        "wins": f"{comparison.wins:,}",
        "losses": f"{comparison.losses:,}",
        "tiers": tier_words(comparison.tiers),
    }


def tier_words(tiers: list[dict]) -> list[dict]:
    return [{**t, "live": f"{t['live']:,}", "shadow": f"{t['shadow']:,}"} for t in tiers]


@role_required(ADMIN, MANAGER)
def shadow_compare(request):
    """The active version and the one in shadow, side by side on the deals closed in the period."""
    form = KpiFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "insights/shadow/compare.html", {"form": form}, status=400)
    comparison = shadow_comparison(user=request.user, period=form.kpi_period())
    context = {
        "form": form,
        "comparison": comparison,
        "words": comparison_words(comparison),
        "scope": scope_words(request.user),
        "period_words": period_phrase(comparison.period),
        "can_promote": is_admin(request.user) and comparison.shadow is not None,
        "query": form.query(segment=""),
    }
    return render(request, "insights/shadow/compare.html", context)


@admin_only
def shadow_promote(request):
    """GET: what publishing the version in shadow will change, for a confirmation. POST: publish it."""
    shadow = shadow_model()
    if shadow is None:
        messages.error(request, "No version runs in shadow: there is nothing to promote.")
        return redirect("kpi-shadow")
    if request.method == "POST":
        try:
            job = model_publish(model=shadow, user=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("kpi-shadow-promote")
        messages.success(
            request,
            f"v{shadow.version} is active: every account is being rescored with it (job #{job.pk}); it no longer "
            "runs in shadow.",
        )
        return redirect("model-detail", model_id=shadow.pk)
    preview = latest_preview(shadow)
    context = {
        "shadow": shadow,
        "active": active_model(),
        "tiers": tier_words(shadow_tier_counts(request.user, shadow)),
        "preview": preview,
        "preview_words": preview_in_words(preview.result if preview else None),
        "problems": model_problems(shadow),
    }
    return render(request, "insights/shadow/promote.html", context)


def comparison_data(comparison: Comparison) -> dict:
    def model_data(model):
        return None if model is None else {"id": model.pk, "version": model.version, "name": model.name}

    return {
        "period": comparison.period.words(),
        "active": model_data(comparison.active),
        "shadow": model_data(comparison.shadow),
        "accounts": comparison.n,
        "won": comparison.wins,
        "lost": comparison.losses,
        "too_few": comparison.too_few,
        "message": comparison.message,
        "page": reverse("kpi-shadow"),
        "sides": [
            {
                "name": side.name,
                "version": side.model.version if side.model else None,
                "auc": side.auc,
                "auc_interval": list(side.auc_interval) if side.auc_interval else None,
                "point_biserial": side.r,
                "point_biserial_interval": list(side.r_interval) if side.r_interval else None,
                "bands": [
                    {
                        "band": b.label,
                        "accounts": b.n,
                        "won": b.wins,
                        "win_rate": b.rate,
                        "interval": list(b.interval) if b.interval else None,
                    }
                    for b in side.bands
                ],
            }
            for side in comparison.sides
        ],
        "tiers": comparison.tiers,
    }
