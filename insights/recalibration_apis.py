"""`recalibrations/`: run the recalibration from closed deals (a job) and read its reports (RevOps admins only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.models import Job
from core.permissions import IsRevOpsAdmin

from .recalibration import AS_OF_CHOICES, DEFAULT_AS_OF, parse_target_mix, recalibration_job_start

AS_OF_MESSAGE = "Read the features as of one of: " + "; ".join(f"{k} ({words})" for k, words in AS_OF_CHOICES.items())


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "10,20,30,40"},
            {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4, "example": [10, 20, 30, 40]},
        ],
        "nullable": True,
        "description": "Per cent of the scored accounts in Tier 1, Tier 2, Tier 3 and Recycle, adding up to 100, "
        'as "10,20,30,40" or [10, 20, 30, 40]. Left out or null: the current mix.',
    }
)
class TargetMixField(serializers.Field):
    """A tier mix as the page takes it ("10,20,30,40") or as four numbers; validated by parse_target_mix."""

    def to_internal_value(self, data):
        if data is not None and not isinstance(data, str | list):
            raise serializers.ValidationError('Give the tier mix as "10,20,30,40" or as a list of four numbers.')
        if isinstance(data, list) and any(isinstance(v, bool) or not isinstance(v, int | float | str) for v in data):
            raise serializers.ValidationError("Each share of the tier mix is a number of per cent, such as 10.")
        try:
            return parse_target_mix(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return value


class RecalibrationStartSerializer(serializers.Serializer):
    target_mix = TargetMixField(allow_null=True, default=None)
    as_of_field = serializers.ChoiceField(
        choices=list(AS_OF_CHOICES),
        default=DEFAULT_AS_OF,
        error_messages={"invalid_choice": AS_OF_MESSAGE},
        help_text="Which date of each deal its features are read as of: "
        + "; ".join(f"`{k}`, {words}" for k, words in AS_OF_CHOICES.items())
        + f". Default `{DEFAULT_AS_OF}`.",
    )


class RecalibrationAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The recalibration's job.")
    status = serializers.CharField()
    url = serializers.CharField(help_text="Where to follow it and read its report.")


class RecalibrationSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True, default=None)
    report = serializers.JSONField(
        source="result",
        read_only=True,
        help_text="Once succeeded: the verdict, message, held-out AUCs (`auc`, `points_auc`, with `_low`/`_high`), "
        "features, ranking, lift and the `proposal` (the draft's `model_id` and `version`), as the page shows them.",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "status",
            "done",
            "total",
            "percent",
            "params",
            "report",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RecalibrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Recalibrations: a win model fitted on the closed deals, and a draft scoring model proposed when they say
    something (nothing is published). Each is a job; its report is the job's result. RevOps admins only."""

    serializer_class = RecalibrationSerializer
    permission_classes = [IsRevOpsAdmin]
    filter_backends: list = []
    lookup_value_regex = "[0-9]{1,18}"  # an id the database can hold; anything else is not found
    permission_subject = "recalibrations"

    def get_queryset(self):
        return Job.objects.filter(kind=Job.Kind.RECALIBRATE).select_related("created_by").order_by("-created_at", "-id")

    @extend_schema(summary="Recalibrations, latest first")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One recalibration: its status, progress, parameters and report")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Start a recalibration",
        request=RecalibrationStartSerializer,
        responses={202: RecalibrationAcceptedSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Queue a recalibration job; follow it at `url` until its status is `succeeded` (or `failed`)."""
        body = RecalibrationStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = recalibration_job_start(
            user=request.user, target_mix=body.validated_data["target_mix"], as_of=body.validated_data["as_of_field"]
        )
        url = reverse("api:recalibration-detail", args=[job.pk], request=request)
        return Response({"id": job.pk, "status": job.status, "url": url}, status=status.HTTP_202_ACCEPTED)
