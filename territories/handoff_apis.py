"""Handoffs in the API: a rep sees and decides their own; managers see their territories' and may reassign."""

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.apis import IdFilter
from core.permissions import HasRole

from .handoffs import AlreadyDecided, can_reassign, handoff_accept, handoff_reassign, handoff_reject
from .models import Handoff
from .selectors import handoff_list


class HandoffSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id", "account", "account_name", "mqa", "territory", "owner", "tier", "assigned_at", "accept_due_at",
            "status", "decided_by", "decided_at", "reason", "note", "breached_at", "created_at",
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

    class Meta:
        model = Handoff
        fields = ["status", "tier", "owner", "territory"]


ALREADY = OpenApiResponse(description="Already decided: nothing changed.")


class HandoffViewSet(viewsets.ReadOnlyModelViewSet):
    """Handoffs the user may see: a rep their own, a manager their territories', an admin all."""

    serializer_class = HandoffSerializer
    permission_classes = [IsAuthenticated, HasRole]
    filterset_class = HandoffFilterSet
    ordering_fields = ["accept_due_at", "assigned_at", "created_at", "id"]
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
