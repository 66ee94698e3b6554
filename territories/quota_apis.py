"""Quota planning over the API: suggested territory and rep quotas for a period, and saving the amounts settled on.
Managers plan the territories they manage (and those below), RevOps admins every active territory; reps are
refused."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import MAX_ID

from .apis import ManagerOrAdmin
from .quota_forms import MAX_RATE
from .quota_suggestions import (
    next_quarter,
    period_problems,
    quota_plan_save,
    quota_plan_territories,
    quota_suggestion,
)


class SuggestionQuerySerializer(serializers.Serializer):
    period_start = serializers.DateField(required=False, help_text="First day; default: the next calendar quarter's.")
    period_end = serializers.DateField(required=False, help_text="Last day (included); default: the next quarter's.")
    territory = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this territory (one you plan)."
    )
    attainment_rate = serializers.DecimalField(
        required=False,
        max_digits=7,
        decimal_places=2,
        min_value=0,
        max_value=MAX_RATE,
        help_text="Percent of spend potential a year; default: the historical rate.",
    )

    def validate_attainment_rate(self, value):
        if value is not None and value <= 0:
            raise serializers.ValidationError("A rate above 0, or none for the historical one.")
        return value

    def validate_territory(self, value):
        if not quota_plan_territories(user=self.context["request"].user).filter(pk=value).exists():
            raise serializers.ValidationError("Not a territory you plan quotas for.")
        return value

    def validate(self, attrs):
        if "period_start" not in attrs and "period_end" not in attrs:
            attrs["period_start"], attrs["period_end"] = next_quarter()
        problems = period_problems(period_start=attrs.get("period_start"), period_end=attrs.get("period_end"))
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


class RepSuggestionSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user.pk")
    name = serializers.CharField()
    owned_accounts = serializers.IntegerField()
    owned_potential = serializers.DecimalField(max_digits=20, decimal_places=2)
    weight = serializers.DecimalField(source="membership.weight", max_digits=6, decimal_places=2)
    max_accounts = serializers.IntegerField(source="membership.max_accounts", allow_null=True)
    share = serializers.DecimalField(max_digits=7, decimal_places=4, help_text="Of the suggested territory quota.")
    at_capacity = serializers.BooleanField(source="capped")
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    saved_amount = serializers.DecimalField(source="saved", max_digits=18, decimal_places=2, allow_null=True)


class TerritorySuggestionSerializer(serializers.Serializer):
    territory = serializers.IntegerField(source="territory.pk")
    name = serializers.CharField(source="territory.name")
    account_count = serializers.IntegerField()
    potential = serializers.DecimalField(max_digits=20, decimal_places=2)
    suggested_amount = serializers.DecimalField(source="suggested", max_digits=18, decimal_places=2)
    saved_amount = serializers.DecimalField(source="saved", max_digits=18, decimal_places=2, allow_null=True)
    split_by = serializers.ChoiceField(choices=["potential", "weight"])
    unallocated = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="Of the suggestion, what no rep can carry within capacity."
    )
    reps = RepSuggestionSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    days = serializers.IntegerField()
    attainment_rate = serializers.DecimalField(
        source="rate", max_digits=12, decimal_places=6, allow_null=True, help_text="Share of potential a year."
    )
    attainment_rate_typed = serializers.BooleanField(source="rate_typed")
    history_start = serializers.DateField()
    history_end = serializers.DateField()
    won_amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    potential = serializers.DecimalField(source="plan_potential", max_digits=20, decimal_places=2)
    method = serializers.SerializerMethodField()
    territories = TerritorySuggestionSerializer(many=True)

    def get_method(self, obj) -> str:
        return METHOD


METHOD = (
    "attainment rate = amount won in the 365 days before the period / spend potential of the planned territories "
    "(or the rate given); territory quota = attainment rate x the territory's spend potential x days in the "
    "period / 365; rep quota = territory quota x the rep's share of the territory's spend potential in accounts they "
    "own (by weight when no rep owns any), at most max_accounts / the territory's accounts of it; what a cap holds "
    "back goes to the other reps, what nobody can carry is unallocated. Whole dollars."
)


class TerritoryAmountSerializer(serializers.Serializer):
    territory = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class RepAmountSerializer(serializers.Serializer):
    territory = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    user = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)


class QuotaPlanSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    territories = TerritoryAmountSerializer(many=True, required=False, max_length=1000)
    reps = RepAmountSerializer(many=True, required=False, max_length=10_000)

    def validate(self, attrs):
        problems = period_problems(period_start=attrs.get("period_start"), period_end=attrs.get("period_end"))
        if problems:
            raise serializers.ValidationError(problems)
        if not attrs.get("territories") and not attrs.get("reps"):
            raise serializers.ValidationError("Give at least one amount to save.")
        for key, name in (("territories", "territory"), ("reps", "rep")):
            rows = [(r["territory"], r.get("user")) for r in attrs.get(key, [])]
            if len(rows) != len(set(rows)):
                raise serializers.ValidationError({key: f"Each {name} at most once."})
        return attrs


class QuotaSuggestionView(APIView):
    """Suggested quotas per territory and per rep for a period, with the amounts saved for exactly that period.
    The method is in `method`. POST saves territory quotas and rep quotas for a period (each created, or changed
    when one exists for exactly that period): all or nothing; a refused amount is named by its field,
    `territory-<territory id>` or `rep-<territory id>-<user id>`."""

    permission_classes = [ManagerOrAdmin]

    @extend_schema(
        parameters=[
            OpenApiParameter("period_start", str, description="First day (YYYY-MM-DD); default: next quarter's."),
            OpenApiParameter("period_end", str, description="Last day, included (YYYY-MM-DD)."),
            OpenApiParameter("territory", int, description="Only this territory."),
            OpenApiParameter("attainment_rate", float, description="Percent of spend potential a year."),
        ],
        responses={200: SuggestionSerializer, 400: OpenApiResponse(description="Field messages.")},
    )
    def get(self, request):
        query = SuggestionQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        values = query.validated_data
        rate = values.get("attainment_rate")
        suggestion = quota_suggestion(
            user=request.user,
            period_start=values["period_start"],
            period_end=values["period_end"],
            territory_ids=[values["territory"]] if values.get("territory") else None,
            rate=rate / 100 if rate is not None else None,
        )
        return Response(SuggestionSerializer(suggestion).data)

    @extend_schema(
        request=QuotaPlanSerializer,
        responses={
            200: inline_serializer(
                "QuotasSaved",
                {"territory_quotas": serializers.IntegerField(), "rep_quotas": serializers.IntegerField()},
            ),
            400: OpenApiResponse(description="Field messages; nothing saved."),
        },
    )
    def post(self, request):
        body = QuotaPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            territory_quotas, rep_quotas = quota_plan_save(
                user=request.user,
                period_start=values["period_start"],
                period_end=values["period_end"],
                territory_amounts={r["territory"]: r["amount"] for r in values.get("territories", [])},
                rep_amounts={(r["territory"], r["user"]): r["amount"] for r in values.get("reps", [])},
            )
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"territory_quotas": territory_quotas, "rep_quotas": rep_quotas})
