"""`scenarios/`: territory planning scenarios, for managers (of the territories they manage) and RevOps admins.

POST copies the live territories into a new scenario; PATCH changes its name and balancer settings;
`territories/{id}/` (PATCH) changes a copied territory's rules, priority, strategy or activity;
`territories/{id}/members/` (POST) adds a member; `members/{id}/` (PATCH, DELETE) changes or removes one; `run/`
starts the balancer (202, a job), `comparison/` reads live vs the scenario vs a greedy round robin, `apply/` applies it
(202). Nothing live changes until it is applied."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from core.models import Job
from core.roles import MANAGER, REP, is_admin

from .apis import CriterionSerializer, ManagerOrAdmin
from .models import Membership, Scenario, ScenarioMember, ScenarioTerritory, Territory
from .scenario_selectors import scenario_comparison, scenario_list
from .services.scenarios import (
    scenario_apply_start,
    scenario_base_changed,
    scenario_create,
    scenario_delete,
    scenario_member_add,
    scenario_member_remove,
    scenario_member_update,
    scenario_run_start,
    scenario_territory_update,
    scenario_update,
)


class ScenarioMemberSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="rep or manager")

    class Meta:
        model = ScenarioMember
        fields = [
            "id", "user", "role", "max_accounts", "max_tier1_accounts", "away_from", "away_until", "is_active",
            "weight",
        ]  # fmt: skip
        read_only_fields = fields


class ScenarioTerritorySerializer(serializers.ModelSerializer):
    criteria = CriterionSerializer(many=True, read_only=True)
    members = ScenarioMemberSerializer(many=True, read_only=True)

    class Meta:
        model = ScenarioTerritory
        fields = [
            "id", "source", "name", "parent", "priority", "criteria", "named_account_ids", "strategy", "is_active",
            "members",
        ]  # fmt: skip
        read_only_fields = fields


class ScenarioTerritoryChangeSerializer(serializers.Serializer):
    """What may change in a copied territory; fields left out stay as they are."""

    criteria = CriterionSerializer(many=True, required=False)
    priority = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    strategy = serializers.ChoiceField(choices=Territory.Strategy.choices, required=False)
    is_active = serializers.BooleanField(required=False)


class ScenarioMemberChangeSerializer(serializers.Serializer):
    """What may change in a scenario member; fields left out stay as they are. Only RevOps admins set the role."""

    role = serializers.ChoiceField(choices=Membership.Role.choices, required=False)
    max_accounts = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    max_tier1_accounts = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    weight = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=Decimal("0.01"), required=False)
    away_from = serializers.DateField(allow_null=True, required=False)
    away_until = serializers.DateField(allow_null=True, required=False)
    is_active = serializers.BooleanField(required=False)


class ScenarioMemberAddSerializer(ScenarioMemberChangeSerializer):
    user = serializers.IntegerField(help_text="The person's user id: a rep (or, added by an admin, a manager).")


class ScenarioSerializer(serializers.ModelSerializer):
    territories = ScenarioTerritorySerializer(many=True, read_only=True)
    base_changed = serializers.SerializerMethodField()

    class Meta:
        model = Scenario
        fields = [
            "id", "name", "covers_all", "status", "weight_potential", "weight_count", "weight_tier1", "disruption",
            "base_changed", "run_job", "apply_job", "ran_at", "applied_at", "created_by", "created_at", "updated_at",
            "territories",
        ]  # fmt: skip
        read_only_fields = [
            "covers_all", "status", "run_job", "apply_job", "ran_at", "applied_at", "created_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "disruption": {"min_value": 0, "max_value": 100, "help_text": "Minimise disruption, 0-100%."},
            "weight_potential": {"min_value": 0},
            "weight_count": {"min_value": 0},
            "weight_tier1": {"min_value": 0},
        }

    @extend_schema_field(serializers.BooleanField())
    def get_base_changed(self, scenario: Scenario) -> bool:
        """True when the live territories or members it was copied from changed since."""
        return scenario.status != Scenario.Status.APPLIED and scenario_base_changed(scenario=scenario)


class ScenarioJobSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="The job's id: GET /api/v1/jobs/{id}/ follows its progress.")
    status = serializers.CharField()


class ApplyRequestSerializer(serializers.Serializer):
    accept_base_change = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Apply even though the live territories or members changed since the scenario was copied.",
    )


class PlanFiguresSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="live, balanced or greedy")
    label = serializers.CharField()
    accounts_moved = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    potential_max_min = serializers.FloatField(allow_null=True, help_text="null: a rep has none")
    potential_gini = serializers.FloatField(allow_null=True)
    count_max_min = serializers.FloatField(allow_null=True)
    count_gini = serializers.FloatField(allow_null=True)
    tier1_max_min = serializers.FloatField(allow_null=True)
    tier1_gini = serializers.FloatField(allow_null=True)


class RepFiguresSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    potential = serializers.FloatField()
    tier1 = serializers.IntegerField()
    moves_in = serializers.IntegerField()
    moves_out = serializers.IntegerField()


class RepComparisonSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    live = RepFiguresSerializer()
    balanced = RepFiguresSerializer()
    greedy = RepFiguresSerializer()


class ComparisonSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="optimal, feasible (best answer within the time limit), infeasible")
    status_text = serializers.CharField()
    message = serializers.CharField()
    seconds = serializers.FloatField()
    considered = serializers.IntegerField()
    balanced_accounts = serializers.IntegerField()
    no_territory = serializers.IntegerField()
    accounts_changing = serializers.IntegerField()
    plans = PlanFiguresSerializer(many=True)
    reps = RepComparisonSerializer(many=True)


REFUSED = OpenApiResponse(
    response=inline_serializer("ScenarioRefused", {"detail": serializers.CharField()}),
    description="Refused in this state: applied already, running, not balanced since its last change, or its live "
    "base changed (apply with accept_base_change).",
)


def _refused(exc: DjangoValidationError) -> Response:
    return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)


def _refused_or_invalid(exc: DjangoValidationError) -> Response:
    """Field problems are the request's (400); a refusal of the scenario's state (applied, running) is 409."""
    if hasattr(exc, "error_dict"):
        return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return _refused(exc)


def _role_checked(request, values: dict) -> dict:
    if "role" in values and not is_admin(request.user):
        raise serializers.ValidationError({"role": ["Only RevOps admins appoint managers."]})
    return values


class ScenarioViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Territory planning scenarios a user may plan in: admins all, managers those of the territories they manage."""

    serializer_class = ScenarioSerializer
    permission_classes = [ManagerOrAdmin]
    permission_subject = "territory planning scenarios"
    lookup_value_regex = "[0-9]{1,18}"
    filter_backends = []

    def get_queryset(self):
        return scenario_list(user=self.request.user).prefetch_related("territories__members")

    def perform_create(self, serializer):
        try:
            scenario = scenario_create(user=self.request.user, name=serializer.validated_data.get("name", ""))
            settings = {k: v for k, v in serializer.validated_data.items() if k != "name"}
            if settings:
                scenario = scenario_update(scenario=scenario, values=settings)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise serializers.ValidationError(getattr(exc, "message_dict", {"detail": exc.messages})) from None
        serializer.instance = scenario

    def perform_update(self, serializer):
        try:
            serializer.instance = scenario_update(scenario=serializer.instance, values=serializer.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(getattr(exc, "message_dict", {"detail": exc.messages})) from None

    @extend_schema(responses={204: None, 409: REFUSED})
    def destroy(self, request, *args, **kwargs):
        try:
            scenario_delete(scenario=self.get_object())
        except DjangoValidationError as exc:
            return _refused(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: ScenarioJobSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Start the balancer on the scenario: a job; the comparison reads its answer once it is done."""
        try:
            job = scenario_run_start(scenario=self.get_object(), user=request.user)
        except DjangoValidationError as exc:
            return _refused(exc)
        return Response({"job": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={200: ComparisonSerializer, 404: OpenApiResponse(description="No such scenario, or not run yet.")}
    )
    @action(detail=True, methods=["get"])
    def comparison(self, request, pk=None):
        """Live vs the scenario (the balancer's answer) vs a greedy round robin, per rep and in spread."""
        found = scenario_comparison(scenario=self.get_object())
        if found is None:
            return Response({"detail": "The balancer has not run on this scenario yet."}, status=404)
        return Response(found)

    def _territory(self, territory_id):
        found = self.get_object().territories.filter(pk=territory_id).first()
        if found is None:
            raise NotFound("No such territory in this scenario.")
        return found

    def _member(self, member_id):
        found = (
            ScenarioMember.objects.select_related("territory__scenario", "user")
            .filter(pk=member_id, territory__scenario=self.get_object())
            .first()
        )
        if found is None:
            raise NotFound("No such member in this scenario.")
        return found

    @extend_schema(
        request=ScenarioTerritoryChangeSerializer, responses={200: ScenarioTerritorySerializer, 409: REFUSED}
    )
    @action(detail=True, methods=["patch"], url_path=r"territories/(?P<territory_id>[0-9]{1,18})")
    def territory(self, request, pk=None, territory_id=None):
        """Change a copied territory's rules, priority, strategy or activity (the live territory is untouched)."""
        territory = self._territory(territory_id)
        body = ScenarioTerritoryChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            territory = scenario_territory_update(territory=territory, values=dict(body.validated_data))
        except DjangoValidationError as exc:
            return _refused_or_invalid(exc)
        return Response(ScenarioTerritorySerializer(territory).data)

    @extend_schema(request=ScenarioMemberAddSerializer, responses={201: ScenarioMemberSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"], url_path=r"territories/(?P<territory_id>[0-9]{1,18})/members")
    def member_add(self, request, pk=None, territory_id=None):
        """A person joins a copied territory, in this scenario only."""
        territory = self._territory(territory_id)
        body = ScenarioMemberAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = _role_checked(request, dict(body.validated_data))
        role = values.get("role", Membership.Role.REP)
        wanted = MANAGER if role == Membership.Role.MANAGER else REP
        person = User.objects.filter(pk=values.pop("user"), is_active=True, groups__name=wanted).first()
        if person is None:
            raise serializers.ValidationError({"user": [f"No active user with the {wanted} role has this id."]})
        try:
            member = scenario_member_add(territory=territory, user=person, values=values)
        except DjangoValidationError as exc:
            return _refused_or_invalid(exc)
        return Response(ScenarioMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"], request=ScenarioMemberChangeSerializer, responses={200: ScenarioMemberSerializer,
                                                                             409: REFUSED}
    )  # fmt: skip
    @extend_schema(methods=["DELETE"], request=None, responses={204: None, 409: REFUSED})
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<member_id>[0-9]{1,18})")
    def member(self, request, pk=None, member_id=None):
        """Change a scenario member's capacities, weight, away dates or activity, or remove them (this scenario
        only)."""
        member = self._member(member_id)
        try:
            if request.method == "DELETE":
                scenario_member_remove(member=member)
                return Response(status=status.HTTP_204_NO_CONTENT)
            body = ScenarioMemberChangeSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            member = scenario_member_update(member=member, values=_role_checked(request, dict(body.validated_data)))
        except DjangoValidationError as exc:
            return _refused_or_invalid(exc)
        return Response(ScenarioMemberSerializer(member).data)

    @extend_schema(request=ApplyRequestSerializer, responses={202: ScenarioJobSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply the balanced scenario: live territories and members become its, accounts move (each move logged)."""
        scenario = self.get_object()
        body = ApplyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = scenario_apply_start(
                scenario=scenario, user=request.user, base_change_accepted=body.validated_data["accept_base_change"]
            )
        except DjangoValidationError as exc:
            return _refused(exc)
        return Response({"job": job.pk, "status": Job.Status(job.status).value}, status=status.HTTP_202_ACCEPTED)
