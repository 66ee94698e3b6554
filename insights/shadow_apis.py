"""`kpis/shadow/`: the shadow comparison's figures, computed by the same code as its page."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import HasRole
from core.roles import ADMIN, MANAGER, user_roles

from .apis import PERIOD_PARAMETERS, _form
from .shadow import shadow_comparison
from .shadow_views import comparison_data


class ShadowComparisonView(APIView):
    """GET /api/v1/kpis/shadow/?period=30|90|365|all|custom&start=&end=: the shadow comparison as JSON (admins and
    managers)."""

    permission_classes = [HasRole]
    permission_subject = "the shadow comparison"

    @extend_schema(operation_id="v1_kpis_shadow", parameters=PERIOD_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        if not user_roles(request.user).intersection((ADMIN, MANAGER)):
            raise exceptions.PermissionDenied("Only admins and managers may read the shadow comparison.")
        form = _form(request)
        comparison = shadow_comparison(user=request.user, period=form.kpi_period())
        return Response(comparison_data(comparison))
