"""`backtests/`: backtest a scoring model version beside the active one (RevOps admins only). POST starts a job;
GET on its id reads its status, progress and, once done, its report (insights/recalibration/backtest.py)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from core.apis import MAX_ID
from core.models import Job
from core.permissions import no_role_message
from core.roles import has_role, is_admin
from segmentation.models import ScoringModel

from .recalibration.backtest import CutoffError, backtest_job_start, parse_cutoff


class RevOpsAdminBacktests(BasePermission):
    """RevOps admins only, to run a backtest and to read one."""

    message = "Only RevOps admins may run or read backtests of scoring models."

    def has_permission(self, request, view) -> bool:
        if is_admin(request.user):
            return True
        if not has_role(request.user):
            self.message = no_role_message(request, view)
        return False


class BacktestRequestSerializer(serializers.Serializer):
    model = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of the scoring model version to backtest (a draft or any)."
    )
    cutoff = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=40,
        help_text="YYYY-MM-DD, not after today: the models score as of 00:00 UTC that day and are judged on the deals "
        "closed after it. Empty: the day that leaves the most recent 30% of the closed deals after it.",
    )

    def validate_model(self, value: int) -> ScoringModel:
        model = ScoringModel.objects.select_related("icp").filter(pk=value).first()
        if model is None:
            raise serializers.ValidationError(f"No scoring model version has the id {value}.")
        return model

    def validate_cutoff(self, value):
        try:
            return parse_cutoff(value)
        except CutoffError as exc:
            raise serializers.ValidationError(str(exc)) from None


class BacktestSerializer(serializers.Serializer):
    """A backtest job: what was asked, how far it is, and its report once it succeeded."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    cutoff = serializers.SerializerMethodField()
    done = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True, allow_null=True)
    percent = serializers.IntegerField(read_only=True)
    error = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    report = serializers.SerializerMethodField()

    def get_url(self, job: Job) -> str:
        return self.context["request"].build_absolute_uri(f"/api/v1/backtests/{job.pk}/")

    @extend_schema_field(OpenApiTypes.INT)
    def get_model(self, job: Job):
        return (job.params or {}).get("model_id")

    @extend_schema_field(OpenApiTypes.INT)
    def get_version(self, job: Job):
        return (job.params or {}).get("version")

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_cutoff(self, job: Job):
        """The cutoff asked for (null: the default, which the report names once it is computed)."""
        return (job.params or {}).get("cutoff")

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": True})
    def get_report(self, job: Job):
        return job.result if job.status == Job.Status.SUCCEEDED else None


BAD_INPUT = OpenApiResponse(
    response=inline_serializer(
        "BacktestBadInput",
        {"model": serializers.ListField(child=serializers.CharField(), required=False),
         "cutoff": serializers.ListField(child=serializers.CharField(), required=False)},
    ),
    description="An unknown model version, or a cutoff that is not a date or is in the future.",
)  # fmt: skip


class BacktestViewSet(viewsets.GenericViewSet):
    """Backtests of scoring model versions, for RevOps admins."""

    permission_classes = [RevOpsAdminBacktests]
    permission_subject = "backtests"  # what a caller without a role is told they may not use (core/permissions.py)
    serializer_class = BacktestSerializer
    queryset = Job.objects.filter(kind=Job.Kind.BACKTEST)
    lookup_value_regex = "[0-9]{1,18}"
    filter_backends = []
    pagination_class = None

    @extend_schema(request=BacktestRequestSerializer, responses={202: BacktestSerializer, 400: BAD_INPUT})
    def create(self, request):
        """Start a backtest of a version beside the active one, as of a past cutoff (a job): 202 with its address."""
        asked = BacktestRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        job = backtest_job_start(
            model=asked.validated_data["model"], user=request.user, cutoff=asked.validated_data.get("cutoff")
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request, pk=None):
        """A backtest's status and progress, and its report once it succeeded."""
        return Response(self.get_serializer(self.get_object()).data)
