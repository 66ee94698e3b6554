"""Handoffs in the API: a rep sees and decides their own; managers see their territories' and may reassign."""

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from core.apis import IdFilter, updated_since_filter
from core.permissions import HasRole
from core.roles import ADMIN, MANAGER, user_roles

from .models import Handoff, SlaPolicy
from .selectors import handoff_list
from .services import AlreadyDecided, can_reassign, handoff_accept, handoff_reassign, handoff_reject
from .sla import clock_problems, describe
from .sla_calendars import MAX_CLOSED_DATES, policy_clock
from .sla_policies import CLOCK_FIELDS, HOLIDAY_FIELDS, TIER_LABELS, holiday_fields_check, sla_policy_save


class HandoffSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    # Empty until the handoff is rejected: documented as such ("" is one of the answers).
    reason = serializers.ChoiceField(choices=Handoff.Reason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id", "account", "account_name", "mqa", "territory", "owner", "tier", "assigned_at", "accept_due_at",
            "status", "decided_by", "decided_at", "reason", "note", "breached_at", "breached_by", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class RejectSerializer(serializers.Serializer):
    """The shape of a rejection; its rules (`other` needs a note) are the service's, as on the queue page."""

    reason = serializers.ChoiceField(choices=Handoff.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class HandoffReassignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class HandoffFilterSet(django_filters.FilterSet):
    owner = IdFilter(field_name="owner_id")
    territory = IdFilter(field_name="territory_id")
    updated_since = updated_since_filter()

    class Meta:
        model = Handoff
        fields = ["status", "tier", "owner", "territory", "updated_since"]


ALREADY = OpenApiResponse(description="Already decided: nothing changed.")


class HandoffViewSet(viewsets.ReadOnlyModelViewSet):
    """Handoffs the user may see: a rep their own, a manager their territories', an admin all."""

    serializer_class = HandoffSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = HandoffFilterSet
    ordering_fields = ["accept_due_at", "assigned_at", "created_at", "updated_at", "id"]
    ordering = ["accept_due_at", "id"]

    def get_queryset(self):
        return handoff_list(user=self.request.user).select_related("account")

    def _decided(self, call):
        try:
            handoff = call()
        except AlreadyDecided as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "message_dict") else exc.messages
            raise serializers.ValidationError(detail) from exc
        return Response(HandoffSerializer(handoff).data)

    @extend_schema(request=None, responses={200: HandoffSerializer, 409: ALREADY})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The owner accepts a pending handoff (a Sales Accepted Account)."""
        return self._decided(lambda: handoff_accept(user=request.user, handoff_id=int(self.get_object().pk)))

    @extend_schema(request=RejectSerializer, responses={200: HandoffSerializer, 409: ALREADY})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The owner rejects a pending handoff with a reason (`other` needs a note)."""
        handoff = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decided(
            lambda: handoff_reject(
                user=request.user,
                handoff_id=handoff.pk,
                reason=body.validated_data["reason"],
                note=body.validated_data.get("note", ""),
            )
        )

    @extend_schema(request=HandoffReassignSerializer, responses={200: HandoffSerializer, 409: ALREADY})
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """A manager of the territory (or an admin) gives a pending handoff to another member."""
        handoff = self.get_object()
        if not can_reassign(user=request.user, handoff=handoff):  # refused before the body is even read
            raise PermissionDenied("Only the territory's managers and admins can reassign a handoff.")
        body = HandoffReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decided(
            lambda: handoff_reassign(user=request.user, handoff_id=handoff.pk, owner_id=body.validated_data["owner"])
        )


class ManagersReadAdminsWrite(BasePermission):
    """Managers and RevOps admins read; only RevOps admins write."""

    def has_permission(self, request, view) -> bool:
        roles = user_roles(request.user)
        if request.method in SAFE_METHODS:
            self.message = "Only managers and RevOps admins may see SLA policies."
            return bool(roles & {MANAGER, ADMIN})
        self.message = "Only RevOps admins may change SLA policies."
        return ADMIN in roles


class SlaPolicySerializer(serializers.ModelSerializer):
    # Plain integers and a plain list: the ranges and their messages are clock_problems's, as on the page.
    accept_within_hours = serializers.IntegerField()
    working_days = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=7)
    start_hour = serializers.IntegerField(required=False)
    end_hour = serializers.IntegerField(required=False)
    holiday_country = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="A country (ISO code, e.g. DE) whose public holidays a business-hours clock skips; blank for none.",
    )
    holiday_subdivision = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The country's state or region (the `holidays` package's code, e.g. BE for Berlin) or blank.",
    )
    closed_dates = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=MAX_CLOSED_DATES,
        help_text="Dates (YYYY-MM-DD) the team is closed, which a business-hours clock skips too.",
    )
    clock = serializers.SerializerMethodField(help_text="The clock in words, with its holidays and closed dates.")

    class Meta:
        model = SlaPolicy
        fields = [
            "id", "tier", "accept_within_hours", "calendar", "time_zone", "working_days", "start_hour", "end_hour",
            "holiday_country", "holiday_subdivision", "closed_dates", "breach_action", "clock", "updated_at",
            "updated_by",
        ]  # fmt: skip
        read_only_fields = ["updated_at", "updated_by"]
        extra_kwargs = {"tier": {"validators": []}}  # a second policy for a tier is refused in validate_tier

    def get_clock(self, policy) -> str:
        return describe(policy_clock(policy))

    def validate_tier(self, tier):
        if self.instance is not None:
            if tier != self.instance.tier:
                raise serializers.ValidationError("A policy's tier cannot change; edit the other tier's policy.")
        elif SlaPolicy.objects.filter(tier=tier).exists():
            raise serializers.ValidationError(f"{TIER_LABELS[tier]} already has an SLA policy; change that one.")
        return tier

    def validate(self, attrs):
        values = {field: SlaPolicy._meta.get_field(field).get_default() for field in CLOCK_FIELDS}
        if self.instance is not None:
            values.update({field: getattr(self.instance, field) for field in CLOCK_FIELDS})
        values.update({field: attrs[field] for field in CLOCK_FIELDS if field in attrs})
        problems = clock_problems(values)
        holidays = {field: getattr(self.instance, field) if self.instance else "" for field in HOLIDAY_FIELDS}
        holidays.update({field: attrs[field] for field in HOLIDAY_FIELDS if field in attrs})
        holiday_trouble, holiday_values = holiday_fields_check(holidays)
        problems.update(holiday_trouble)
        if problems:
            raise serializers.ValidationError(problems)
        return {**attrs, **holiday_values}


class SlaPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The SLA policy of each tier: managers and RevOps admins read them; RevOps admins create and change them.

    Policies are not deleted: a tier without one gives its handoffs no due time.
    """

    queryset = SlaPolicy.objects.select_related("updated_by")
    serializer_class = SlaPolicySerializer
    permission_classes = [ManagersReadAdminsWrite]
    ordering = ["tier"]

    def perform_create(self, serializer):
        policy = SlaPolicy(**serializer.validated_data)
        serializer.instance = sla_policy_save(policy=policy, user=self.request.user)

    def perform_update(self, serializer):
        policy = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(policy, field, value)
        serializer.instance = sla_policy_save(policy=policy, user=self.request.user)
