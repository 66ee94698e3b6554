"""`signals/` (one or a list of up to 1,000) and `accounts/bulk/`: batches written by the importer, all or nothing."""

from __future__ import annotations

import django_filters
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import MAX_ID, IdFilter, UtcDateTimeFilter
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin

from ..imports import ImportReport, import_records
from ..imports import fields as import_fields
from ..models import Signal
from ..selectors import account_list, account_visibility_q, signal_list
from .accounts import MAX_BATCH, AccountSerializer


class SignalSerializer(serializers.ModelSerializer):
    # Plain ids: the importer resolves a whole batch in one query rather than one per item.
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, source="account_id")
    contact = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, source="contact_id"
    )
    kind = serializers.RegexField(
        r"^[a-z][a-z0-9_]{0,59}$", error_messages={"invalid": "Use lower_snake_case, e.g. web_visit."}
    )

    class Meta:
        model = Signal
        fields = ["id", "account", "contact", "kind", "topic", "occurred_at", "source", "external_id", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"external_id": {"validators": []}}


class SignalFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    contact = IdFilter(field_name="contact_id")
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Signal
        fields = ["account", "contact", "kind", "occurred_after", "occurred_before"]


BATCH_RESULT = inline_serializer(
    "BatchResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)


def _batch(request) -> tuple[list[dict] | None, Response | None]:
    """The posted object or list as a list; or the 400 that explains why it is not acceptable."""
    items = request.data if isinstance(request.data, list) else [request.data]
    if not items:
        return None, Response({"detail": "Send one object or a non-empty list."}, status=status.HTTP_400_BAD_REQUEST)
    if len(items) > MAX_BATCH:
        return None, Response(
            {"detail": f"Send at most {MAX_BATCH} items per request; this one has {len(items)}."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if not all(isinstance(item, dict) for item in items):
        return None, Response({"detail": "Each item must be a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
    return items, None


def _refused(errors: list[dict]) -> Response:
    return Response({"detail": "Nothing was saved.", "errors": errors}, status=status.HTTP_400_BAD_REQUEST)


def _unseen_accounts(*, user, records: list[dict]) -> Response | None:
    """The 400 for items naming an account the poster may not see, worded as the importer words a missing one."""
    if account_visibility_q(user=user) is None:
        return None
    wanted = {record["account"] for record in records}
    seen = set(account_list(user=user).filter(pk__in=wanted).values_list("pk", flat=True))
    errors = [
        {"index": index, "detail": f"account: account {record['account']} does not exist"}
        for index, record in enumerate(records)
        if record["account"] not in seen
    ]
    return _refused(errors) if errors else None


def _import_batch(*, kind: str, records: list[dict]) -> Response:
    """All or nothing: an item the importer refuses (unknown account, duplicate key...) writes nothing."""
    with transaction.atomic():
        report: ImportReport = import_records(kind=kind, records=records)
        if report.errors:
            transaction.set_rollback(True)
    if report.errors:
        return _refused([{"index": e.line - 1, "detail": e.reason} for e in report.errors])
    body = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    return Response(body, status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Signals on accounts the user may see. POST one signal or a list of up to 1,000; idempotent on external_id."""

    serializer_class = SignalSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = SignalFilter
    ordering_fields = ["occurred_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        return signal_list(user=self.request.user)

    @extend_schema(
        request=SignalSerializer(many=True), responses={201: BATCH_RESULT, 200: BATCH_RESULT, 400: OpenApiResponse()}
    )
    def create(self, request, *args, **kwargs):
        items, refusal = _batch(request)
        if refusal:
            return refusal
        many = isinstance(request.data, list)
        serializer = SignalSerializer(data=items if many else items[0], many=many)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        records = []
        for item in serializer.validated_data if many else [serializer.validated_data]:
            record = dict(item)
            record["account"] = record.pop("account_id")
            record["contact"] = record.pop("contact_id", None)
            records.append(record)
        refusal = _unseen_accounts(user=request.user, records=records)
        if refusal:
            return refusal
        return _import_batch(kind="signals", records=records)


class AccountBulkItemSerializer(AccountSerializer):
    class Meta(AccountSerializer.Meta):
        fields = [
            f
            for f in AccountSerializer.Meta.fields
            if f not in ("owner_detail", "territory_detail", "parent", "attributes")
        ]

    def validate_domain(self, value):
        try:
            return import_fields.domain(value)
        except import_fields.FieldError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_external_id(self, value):
        return (value or "").strip() or None

    def validate(self, attrs):
        if not attrs.get("external_id") and not attrs.get("domain"):
            raise serializers.ValidationError("Each account needs an external_id or a domain to be upserted.")
        return attrs


class AccountBulkView(APIView):
    """Upsert up to 1,000 accounts by external_id or domain (admins). All or nothing."""

    permission_classes = [IsRevOpsAdmin]

    @extend_schema(
        request=AccountBulkItemSerializer(many=True),
        responses={201: BATCH_RESULT, 200: BATCH_RESULT, 400: OpenApiResponse()},
    )
    def post(self, request):
        items, refusal = _batch(request)
        if refusal:
            return refusal
        serializer = AccountBulkItemSerializer(data=items, many=True)
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        records = []
        for item in serializer.validated_data:
            record = {k: v for k, v in item.items() if k not in ("owner", "territory")}
            # Relations arrive as objects; the importer takes their keys.
            if "owner" in item:
                record["owner"] = item["owner"].username if item["owner"] else None
            if "territory" in item:
                record["territory"] = item["territory"].name if item["territory"] else None
            records.append(record)
        return _import_batch(kind="accounts", records=records)
