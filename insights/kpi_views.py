"""The KPI dashboard and one page per KPI, for every role, each counting what the user's scope holds."""

from __future__ import annotations

from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape

from core.csvexport import streamed_csv
from core.decorators import role_required
from core.roles import is_admin, is_manager
from territories.models import Territory
from territories.selectors import territory_ids_managed_by

from .forms import KpiFilterForm
from .kpi_format import bar_chart, csv_rows, format_value
from .kpis import KPIS, MIN_INTERVAL_N, PERCENT, SEGMENTS, kpi_compute
from .snapshots import TREND_DAYS, TRENDS, kpi_trends


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
        if all(value is None for _, value in points):
            continue  # no day had anything to measure: no chart of blanks
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
    """The dashboard paints at once: a card per KPI, each filled by the browser from `kpi_card` as it is computed
    (at a million accounts some take seconds), so no figure waits for the slowest."""
    form = KpiFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "insights/kpis/dashboard.html", {"form": form}, status=400)
    query = form.query(segment="")
    suffix = f"?{query}" if query else ""
    cards = [{"kpi": kpi, "src": reverse("kpi-card", args=[kpi.key]) + suffix} for kpi in KPIS.values()]
    context = {
        "form": form,
        "cards": cards,
        "period": form.kpi_period(),
        "scope": scope_words(request.user),
        "query": query,
        "trends": _trend_charts(request.user),
        "trend_days": TREND_DAYS,
        "min_n": MIN_INTERVAL_N,
    }
    return render(request, "insights/kpis/dashboard.html", context)


@role_required()
def kpi_card(request, key: str):
    """One dashboard card's figures (an HTML fragment the dashboard's script puts in place)."""
    kpi, form, result = _computed(request, key)
    if result is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponseBadRequest(f'<p class="text-danger small mb-0">{escape(errors)}</p>')
    context = {
        "kpi": kpi,
        "result": result,
        "chart": bar_chart(result) if kpi.breakdown else None,
        "chart_id": f"chart-{kpi.key}",
        "query": form.query(segment=""),
    }
    response = render(request, "insights/kpis/_card.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


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
        "min_n": MIN_INTERVAL_N,
    }
    return render(request, "insights/kpis/detail.html", context)


@role_required()
def kpi_export(request, key: str):
    kpi, form, result = _computed(request, key)
    if result is None:
        return render(request, "insights/kpis/detail.html", {"form": form, "kpi": kpi}, status=400)
    header, rows = csv_rows(result)
    return streamed_csv(filename=f"kpi-{key}.csv", header=header, rows=rows)
