"""Tier lists for every role (scoped like the account list) and tier movement for managers and admins."""

from __future__ import annotations

from functools import partial

from django.shortcuts import render
from django.utils import timezone
from django_tables2 import RequestConfig

from accounts.selectors import coverage_remember
from core.csvexport import table_csv
from core.decorators import role_required
from core.pagination import CappedCountPaginator
from core.roles import ADMIN, MANAGER
from core.tiers import LABELS, ORDER, SUPPRESS

from .filters import PeriodForm, TierListFilter, TierMoveForm
from .selectors import scope_tier_counts, scored_account_list, tier_counts, tier_movement_matrix, tier_moves
from .tables import TierMoveTable, TierTable

PAGE_SIZE = 50
ACCOUNT_COLUMNS = [
    ("id", "id"),
    ("name", "name"),
    ("domain", "domain"),
    ("tier", "score__tier"),
    ("unified", "score__unified"),
    ("fit", "score__fit"),
    ("signal", "score__signal"),
    ("coverage", "score__coverage"),
    ("win_probability", "potential__win_probability"),
    ("deal_size", "potential__deal_size"),
    ("expected_value", "potential__expected_value"),
    ("tier_since", "score__tier_since"),
    ("surge_until", "score__surge_until"),
    ("flags", "score__flags"),
    ("industry", "industry"),
    ("territory", "territory__name"),
    ("owner", "owner__username"),
]
MOVE_COLUMNS = [
    ("account_id", "account_id"),
    ("account", "account__name"),
    ("at", "at"),
    ("from_tier", "from_tier"),
    ("to_tier", "to_tier"),
    ("reason", "reason"),
    ("fit", "fit"),
    ("signal", "signal"),
    ("unified", "unified"),
]

managers_and_admins = role_required(MANAGER, ADMIN)


def _tier_filter(request) -> TierListFilter:
    return TierListFilter(request.GET or None, queryset=scored_account_list(user=request.user), user=request.user)


def _rows(tier_filter: TierListFilter):
    # A filter that does not validate (e.g. a territory outside the scope) shows nothing, never "everything".
    if tier_filter.is_bound and not tier_filter.is_valid():
        return tier_filter.queryset.none()
    return tier_filter.qs


def _query(request, **changes: str | None) -> str:
    """The page's query string with `changes` set (None removes a parameter), back on the first page."""
    params = request.GET.copy()
    params.pop("page", None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params.urlencode()


@role_required()
def tier_list(request):
    coverage_remember(request.user)  # the user's territories looked up once for the page's lists and choices
    tier_filter = _tier_filter(request)
    table = TierTable(_rows(tier_filter))
    chosen = tier_filter.form.cleaned_data if tier_filter.is_bound and tier_filter.is_valid() else {}
    # The counts follow every filter but the tier, so each one says what its link will list. With no other filter
    # (the page as opened, or a tile chosen) they are the scope's counts, read from the scores alone, and the list's
    # own count is the chosen tile's (or the total): no join of every account in the scope to count the pages.
    now = timezone.now()
    known = None
    if any(value not in (None, "") for name, value in chosen.items() if name != "tier") or (
        tier_filter.is_bound and not tier_filter.is_valid()
    ):
        counts, counted_at = tier_counts(accounts=tier_filter.qs_except("tier"), now=now), now
    else:
        counts, counted_at = scope_tier_counts(user=request.user, now=now)
        known = counts[chosen["tier"]] if chosen.get("tier") else counts["total"]
    paginator = partial(CappedCountPaginator, known=known)
    RequestConfig(request, paginate={"per_page": PAGE_SIZE, "paginator_class": paginator}).configure(table)
    tiles = [
        {
            "tier": tier,
            "label": LABELS[tier],
            "count": counts[tier],
            "query": _query(request, tier=tier),
            "active": chosen.get("tier") == tier,
        }
        for tier in ORDER
    ]
    context = {
        "filter": tier_filter,
        "table": table,
        "tiles": tiles,
        "total": {"count": counts["total"], "query": _query(request, tier=None), "active": not chosen.get("tier")},
        "surging": {
            "count": counts["surging"],
            "query": _query(request, tier=None, surging="yes"),
            "active": chosen.get("surging") == "yes",
        },
        "export_query": request.GET.urlencode(),
        "counted_at": counted_at,
    }
    return render(request, "segmentation/tiers/list.html", context)


@role_required()
def tier_export(request):
    """The filtered, scoped tier list as CSV in the page's order (best tier first unless sorted), streamed."""
    return table_csv(request, TierTable(_rows(_tier_filter(request))), columns=ACCOUNT_COLUMNS, filename="tiers.csv")


def _direction(source: str, target: str) -> str:
    """ "up" or "down" between ranked tiers; "" for suppress, which stands apart."""
    if SUPPRESS in (source, target) or source == target:
        return ""
    return "up" if ORDER[target] < ORDER[source] else "down"


def _matrix(form: PeriodForm, counts: dict[tuple[str, str], int]) -> dict:
    """Rows (from tier) of cells (to tier), with totals and a link to the moves behind every non-zero number."""
    rows = []
    for source in ORDER:
        cells = []
        for target in ORDER:
            moves = counts.get((source, target), 0)
            cells.append(
                {
                    "count": moves,
                    "query": form.query(from_tier=source, to_tier=target) if moves else "",
                    "direction": _direction(source, target) if moves else "",
                }
            )
        total = sum(cell["count"] for cell in cells)
        rows.append({"label": LABELS[source], "cells": cells, "total": total, "query": form.query(from_tier=source)})
    columns = [
        {
            "label": LABELS[target],
            "total": sum(row["cells"][i]["count"] for row in rows),
            "query": form.query(to_tier=target),
        }
        for i, target in enumerate(ORDER)
    ]
    return {"rows": rows, "columns": columns, "total": sum(row["total"] for row in rows)}


@managers_and_admins
def tier_movement(request):
    """How many accounts moved from each tier to each other tier in a period."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "segmentation/tiers/movement.html", {"form": form}, status=400)
    start, end = form.period()
    matrix = _matrix(form, tier_movement_matrix(user=request.user, start=start, end=end))
    return render(
        request, "segmentation/tiers/movement.html", {"form": form, "matrix": matrix, "moves_query": form.query()}
    )


def _moves(request, form: TierMoveForm):
    start, end = form.period()
    return tier_moves(
        user=request.user,
        start=start,
        end=end,
        from_tier=form.cleaned_data["from_tier"],
        to_tier=form.cleaned_data["to_tier"],
    )


@managers_and_admins
def tier_move_list(request):
    """The moves behind a cell of the movement matrix (or every move of the period), latest first."""
    form = TierMoveForm(request.GET)
    if not form.is_valid():
        return render(request, "segmentation/tiers/moves.html", {"form": form}, status=400)
    table = TierMoveTable(_moves(request, form))
    RequestConfig(request, paginate={"per_page": PAGE_SIZE}).configure(table)
    context = {
        "form": form,
        "table": table,
        "from_label": LABELS.get(form.cleaned_data["from_tier"], "any tier"),
        "to_label": LABELS.get(form.cleaned_data["to_tier"], "any tier"),
        "export_query": form.query(),
        "matrix_query": form.query(from_tier="", to_tier=""),
    }
    return render(request, "segmentation/tiers/moves.html", context)


@managers_and_admins
def tier_move_export(request):
    """The moves of the moves list as CSV, latest first, streamed."""
    form = TierMoveForm(request.GET)
    if not form.is_valid():
        return render(request, "segmentation/tiers/moves.html", {"form": form}, status=400)
    return table_csv(request, TierMoveTable(_moves(request, form)), columns=MOVE_COLUMNS, filename="tier-moves.csv")
