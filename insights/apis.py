"""`kpis/`: the KPI dashboard's numbers, for what the user may see, computed by the same code as the pages."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.response import Response

from .forms import KpiFilterForm
from .kpi_format import result_data
from .kpis import KPIS, SEGMENTS, kpi_compute, kpi_overview

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period", OpenApiTypes.STR, enum=["all", "30", "90", "365", "custom"], description="A preset (default all)."
    ),
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (with period=custom or no period)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included."),
]


def _form(request, segments=()) -> KpiFilterForm:
    form = KpiFilterForm(request.query_params, segments=segments)
    if not form.is_valid():
        raise exceptions.ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
    return form


class KpiViewSet(viewsets.ViewSet):
    """KPIs (SPEC section 6) for the user's scope: a rep their own accounts, a manager their territories', an admin
    all. Each figure carries its sample size `n` and a 95% `interval`; a split carries the `test` of whether its
    segments differ."""

    lookup_field = "key"
    lookup_value_regex = "[a-z_0-9]+"
    permission_subject = "KPIs"  # what a refused caller is told they may not read (core/permissions.py)

    @extend_schema(operation_id="v1_kpis_list", parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def list(self, request):
        """Every KPI's total (and fixed breakdown where it has one)."""
        form = _form(request)
        results = kpi_overview(user=request.user, period=form.kpi_period())
        return Response({"results": [result_data(r) for r in results]})

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("segment", OpenApiTypes.STR, enum=[*SEGMENTS], description="Split by this segment."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def retrieve(self, request, key: str | None = None):
        """One KPI, split by `segment` when given."""
        kpi = KPIS.get(key or "")
        if kpi is None:
            raise exceptions.NotFound("No such KPI.")
        form = _form(request, kpi.segments)
        result = kpi_compute(
            key=kpi.key, user=request.user, segment=form.cleaned_data["segment"], period=form.kpi_period()
        )
        return Response(result_data(result))
