"""ICPs and scoring model versions: every role reads them; RevOps admins edit, preview, publish and restore."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.selectors import criteria_problems
from core.apis import CONFLICT, conflict
from core.models import Job
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin

from .definition import model_errors, signal_rule_errors, signal_rules_normal
from .models import ICP, ScoringModel
from .services import (
    NotADraft,
    icp_create,
    icp_update,
    latest_preview,
    model_draft_create,
    model_draft_delete,
    model_draft_update,
    model_publish,
    model_restore,
    preview_job_start,
)

JOB_ACCEPTED = inline_serializer(
    "JobAccepted", fields={"job": serializers.IntegerField(), "status_url": serializers.CharField()}
)


def _indexed(errors: dict[int, dict]) -> dict:
    if -1 in errors:
        return errors[-1]
    return {str(index): fields for index, fields in errors.items()}


def _job_accepted(request, job: Job) -> Response:
    return Response(
        {"job": job.pk, "status_url": request.build_absolute_uri(f"/api/v1/jobs/{job.pk}/")},
        status=status.HTTP_202_ACCEPTED,
    )


class ICPSerializer(serializers.ModelSerializer):
    criteria = serializers.JSONField(required=False)
    exclusions = serializers.JSONField(required=False)

    class Meta:
        model = ICP
        fields = ["id", "name", "description", "criteria", "exclusions", "created_at", "updated_at", "updated_by"]
        read_only_fields = ["created_at", "updated_at", "updated_by"]

    def validate_criteria(self, value):
        errors = criteria_problems(value, with_points=True)
        if errors:
            raise serializers.ValidationError(_indexed(errors))
        return value

    def validate_exclusions(self, value):
        errors = criteria_problems(value, with_points=False)
        if errors:
            raise serializers.ValidationError(_indexed(errors))
        return value


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: CONFLICT}))
class ICPViewSet(viewsets.ModelViewSet):
    """Ideal Customer Profiles. A draft model reads its ICP live; publishing freezes a copy into the version."""

    queryset = ICP.objects.all()
    serializer_class = ICPSerializer
    permission_classes = [ReadScopedWriteAdmin]
    search_fields = ["name"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = icp_create(user=self.request.user, values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = icp_update(
            icp=serializer.instance, user=self.request.user, values=serializer.validated_data
        )

    def destroy(self, request, *args, **kwargs):
        try:
            return super().destroy(request, *args, **kwargs)
        except ProtectedError:
            return conflict("Scoring model versions use this ICP; it cannot be deleted.")


class ScoringModelSerializer(serializers.ModelSerializer):
    signal_rules = serializers.JSONField(required=False)
    required_personas = serializers.JSONField(required=False)
    mqa_tiers = serializers.JSONField(required=False)
    based_on = serializers.PrimaryKeyRelatedField(
        queryset=ScoringModel.objects.all(), required=False, allow_null=True, write_only=True
    )

    class Meta:
        model = ScoringModel
        fields = [
            "id", "name", "version", "status", "icp", "notes", "based_on", "criteria", "exclusions", "signal_rules",
            "required_personas", "w_fit", "w_signal", "w_coverage", "full_signal_points", "lookback_days",
            "engagement_window_days", "tier1_enter", "tier1_exit", "tier1_min_fit", "tier2_enter", "tier2_exit",
            "tier2_min_fit", "tier3_enter", "tier3_exit", "tier3_min_fit", "min_days_in_tier", "surge_window_days",
            "surge_delta", "surge_hold_days", "mqa_tiers", "mqa_signal_min", "rejection_cooldown_days",
            "contact_cap", "group_rollup",
            "created_at", "created_by", "updated_at", "updated_by", "published_at", "published_by", "archived_at",
        ]  # fmt: skip
        read_only_fields = [
            "version", "status", "criteria", "exclusions", "created_at", "created_by", "updated_at", "updated_by",
            "published_at", "published_by", "archived_at",
        ]  # fmt: skip

    def validate_signal_rules(self, value):
        errors = signal_rule_errors(value)
        if errors:
            raise serializers.ValidationError(_indexed(errors))
        return signal_rules_normal(value)

    def validate(self, attrs):
        values = (
            {f.name: getattr(self.instance, f.name) for f in ScoringModel._meta.concrete_fields}
            if self.instance
            else {}
        )
        if not self.instance:
            values.update({f.name: f.get_default() for f in ScoringModel._meta.concrete_fields if f.has_default()})
        values.update(attrs)
        errors = model_errors(values)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


@extend_schema_view(
    update=extend_schema(responses={200: ScoringModelSerializer, 409: CONFLICT}),
    partial_update=extend_schema(responses={200: ScoringModelSerializer, 409: CONFLICT}),
    destroy=extend_schema(responses={204: None, 409: CONFLICT}),
)
class ScoringModelViewSet(viewsets.ModelViewSet):
    """Versions of the scoring model. Only drafts change; `publish` activates one, `restore` brings one back."""

    queryset = ScoringModel.objects.select_related("icp")
    serializer_class = ScoringModelSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_fields = ["status"]
    ordering = ["-version"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        based_on = data.pop("based_on", None)
        serializer.instance = model_draft_create(user=self.request.user, based_on=based_on, **data)

    def update(self, request, *args, **kwargs):
        if not self.get_object().is_draft:
            return conflict("Only a draft can be changed: create a new draft from this version instead.")
        try:
            return super().update(request, *args, **kwargs)
        except NotADraft:  # published while this request was on its way: the publish stands
            return conflict("Only a draft can be changed: create a new draft from this version instead.")

    def perform_update(self, serializer):
        values = {k: v for k, v in serializer.validated_data.items() if k != "based_on"}
        serializer.instance = model_draft_update(model=serializer.instance, user=self.request.user, values=values)

    def destroy(self, request, *args, **kwargs):
        try:
            model_draft_delete(model=self.get_object())
        except NotADraft:
            return conflict("Only a draft can be deleted; published versions are kept as history.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={202: JOB_ACCEPTED, 200: OpenApiResponse(description="The latest preview's result")},
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[IsRevOpsAdmin])
    def preview(self, request, pk=None):
        """POST: compute what publishing this version would change (a job). GET: the latest preview's result."""
        model = self.get_object()
        if request.method == "POST":
            return _job_accepted(request, preview_job_start(model=model, user=request.user))
        job = latest_preview(model)
        if job is None:
            return Response({"detail": "No preview yet: POST to start one."}, status=status.HTTP_404_NOT_FOUND)
        return Response({"job": job.pk, "status": job.status, "result": job.result, "error": job.error})

    @extend_schema(request=None, responses={202: JOB_ACCEPTED, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[IsRevOpsAdmin])
    def publish(self, request, pk=None):
        """Make this draft the active version and rescore every account (a job)."""
        model = self.get_object()
        if not model.is_draft:
            return conflict(f"Version {model.version} is already {model.get_status_display().lower()}.")
        try:
            job = model_publish(model=model, user=request.user)
        except DjangoValidationError as exc:
            return Response({"detail": "This version cannot be published.", "problems": exc.messages}, status=400)
        return _job_accepted(request, job)

    @extend_schema(request=None, responses={202: JOB_ACCEPTED, 409: CONFLICT})
    @action(detail=True, methods=["post"], permission_classes=[IsRevOpsAdmin])
    def restore(self, request, pk=None):
        """Make this archived version active again and rescore every account (a job)."""
        model = self.get_object()
        if model.status != ScoringModel.Status.ARCHIVED:
            return conflict(f"Only an archived version can be restored; version {model.version} is {model.status}.")
        return _job_accepted(request, model_restore(model=model, user=request.user))
