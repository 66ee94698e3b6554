"""The KPI dashboard and one page per KPI, for every role, each counting what the user's scope holds."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from core.csvexport import streamed_csv
from core.decorators import role_required
from core.roles import is_admin, is_manager
from territories.models import Territory
from territories.selectors import territory_ids_managed_by

from .forms import KpiFilterForm
from .kpi_format import bar_chart, csv_rows, format_value
from .kpis import KPIS, PERCENT, SEGMENTS, kpi_compute, kpi_overview
from .snapshots import TRENDS, kpi_trends

TREND_DAYS = 90


def scope_words(user) -> str:
    if is_admin(user):
        return "every account"
    if is_manager(user):
        names = Territory.objects.filter(pk__in=territory_ids_managed_by(user=user)).order_by("name")
        listed = ", ".join(names.values_list("name", flat=True)) or "none yet"
        return f"the accounts of the territories you manage ({listed})"
    return "the accounts you own"


def _trend_charts(user) -> list[dict]:
    charts = []
    for key, points in kpi_trends(user=user, days=TREND_DAYS).items():
        trend = TRENDS[key]
        if not points:
            continue
        options: dict = {"plugins": {"legend": {"display": False}}}
        if trend.unit == PERCENT:
            options["percentAxis"] = "y"
        charts.append(
            {
                "id": f"trend-{key}",
                "name": trend.name,
                "latest": format_value(points[-1][1], trend.unit),
                "days": len(points),
                "config": {
                    "type": "line",
                    "data": {
                        "labels": [f"{on:%Y-%m-%d}" for on, _ in points],
                        "datasets": [
                            {"label": trend.name, "data": [None if v is None else round(v, 2) for _, v in points]}
                        ],
                    },
                    "options": options,
                },
            }
        )
    return charts


@role_required()
def kpi_dashboard(request):
    form = KpiFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "insights/kpis/dashboard.html", {"form": form}, status=400)
    results = kpi_overview(user=request.user, period=form.kpi_period())
    cards = []
    for result in results:
        chart = bar_chart(result) if result.kpi.breakdown else None
        cards.append({"result": result, "chart": chart, "chart_id": f"chart-{result.kpi.key}"})
    context = {
        "form": form,
        "cards": cards,
        "scope": scope_words(request.user),
        "query": form.query(segment=""),
        "trends": _trend_charts(request.user),
        "trend_days": TREND_DAYS,
    }
    return render(request, "insights/kpis/dashboard.html", context)


def _kpi(key: str):
    if key not in KPIS:
        raise Http404("No such KPI.")
    return KPIS[key]


def _computed(request, key: str):
    """The KPI, its filter form and its result for the request (no result when the form is refused)."""
    kpi = _kpi(key)
    form = KpiFilterForm(request.GET, segments=kpi.segments)
    if not form.is_valid():
        return kpi, form, None
    result = kpi_compute(key=key, user=request.user, segment=form.cleaned_data["segment"], period=form.kpi_period())
    return kpi, form, result


@role_required()
def kpi_detail(request, key: str):
    kpi, form, result = _computed(request, key)
    if result is None:
        return render(request, "insights/kpis/detail.html", {"form": form, "kpi": kpi}, status=400)
    context = {
        "form": form,
        "kpi": kpi,
        "result": result,
        "chart": bar_chart(result),
        "segment_label": SEGMENTS.get(result.segment) or kpi.breakdown,
        "scope": scope_words(request.user),
        "query": form.query(),
    }
    return render(request, "insights/kpis/detail.html", context)


@role_required()
def kpi_export(request, key: str):
    kpi, form, result = _computed(request, key)
    if result is None:
        return render(request, "insights/kpis/detail.html", {"form": form, "kpi": kpi}, status=400)
    header, rows = csv_rows(result)
    return streamed_csv(filename=f"kpi-{key}.csv", header=header, rows=rows)
