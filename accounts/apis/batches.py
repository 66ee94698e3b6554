"""`signals/` (one or a list of up to 1,000), `accounts/bulk/` and `contacts/bulk/`: batches written by the importer,
all or nothing.

A refused batch always answers 400 with one shape: {"detail": "Nothing was saved.", "errors": [{"index", "field",
"detail"}]}, `index` the item's 0-based place in the list (0 for a single object), `field` the field at fault (null
when the item as a whole is)."""

from __future__ import annotations

import re

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import MAX_ID, IdFilter, UtcDateTimeFilter, updated_since_filter
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin

from ..criteria import COMPUTED_FIELDS, computed_field_message
from ..imports import ImportReport, import_records
from ..imports import fields as import_fields
from ..ingest import signals_ingest
from ..models import Contact, Signal
from ..selectors import account_list, account_visibility_q, signal_list
from .accounts import MAX_BATCH, AccountSerializer
from .signal_items import SignalItems


class SignalSerializer(serializers.ModelSerializer):
    # Plain ids: the importer resolves a whole batch in one query rather than one per item.
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, source="account_id")
    contact = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, source="contact_id"
    )
    kind = serializers.CharField(
        max_length=60, help_text="A signal kind; read as the importer and the scoring model's rules read it: "
        "case, spaces and dashes normalised to lower_snake_case (\"Web Visit\" is web_visit).",
    )  # fmt: skip

    class Meta:
        model = Signal
        fields = ["id", "account", "contact", "kind", "topic", "occurred_at", "source", "external_id", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"external_id": {"validators": []}}

    def validate_kind(self, value):
        try:
            return import_fields.signal_kind(value)
        except import_fields.FieldError as exc:
            raise serializers.ValidationError(f"{exc}.") from None


class SignalFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    contact = IdFilter(field_name="contact_id")
    occurred_after = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    updated_since = updated_since_filter(
        "created_at",
        "Only signals received at or after this moment (ISO 8601, any offset). A signal has no time of change: "
        "this is when it was first received (created_at); a batch that sends it again does not move it.",
    )

    class Meta:
        model = Signal
        fields = ["account", "contact", "kind", "occurred_after", "occurred_before", "updated_since"]


BATCH_RESULT = inline_serializer(
    "BatchResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
BATCH_REFUSED = inline_serializer(
    "BatchRefused",
    {
        "detail": serializers.CharField(),
        "errors": inline_serializer(
            "BatchError",
            {
                "index": serializers.IntegerField(help_text="The item's 0-based place in the list."),
                "field": serializers.CharField(allow_null=True, help_text="The field at fault, or null."),
                "detail": serializers.CharField(),
            },
            many=True,
            required=False,  # a body that cannot be parsed at all is refused with a detail alone
        ),
    },
)
BATCH_RESPONSES = {201: BATCH_RESULT, 200: BATCH_RESULT, 400: BATCH_REFUSED}
ACCOUNT_MATCH = inline_serializer(
    "AccountMatch",
    {
        "index": serializers.IntegerField(help_text="The item's 0-based place in the list."),
        "account": serializers.IntegerField(help_text="The account we have that it matched."),
        "name": serializers.CharField(),
        "confident": serializers.BooleanField(),
        "score": serializers.FloatField(help_text="0-100"),
        "same_domain": serializers.BooleanField(),
        "other_domains": serializers.BooleanField(),
        "name_similarity": serializers.FloatField(help_text="0-100"),
        "same_country": serializers.BooleanField(),
        "reasons": serializers.ListField(child=serializers.CharField()),
    },
    many=True,
)
ACCOUNT_BATCH_RESULT = inline_serializer(
    "AccountBatchResult",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "matched": ACCOUNT_MATCH,
        "possible_duplicates": ACCOUNT_MATCH,
    },
)
REASON_PART = re.compile(r"^(?P<field>[a-z_]+)(?::\s*(?P<detail>.*)| (?P<rest>is required.*))$", re.S)


def _refusal(detail: str, errors: list[dict] | None = None) -> Response:
    return Response({"detail": detail, "errors": errors or []}, status=status.HTTP_400_BAD_REQUEST)


def _refused(errors: list[dict]) -> Response:
    return _refusal("Nothing was saved.", sorted(errors, key=lambda e: (e["index"], e["field"] or "")))


def _unknown_field(key: str, allowed: set[str]) -> str:
    if key in COMPUTED_FIELDS:
        return computed_field_message(key)
    return f"Unknown field {key!r}: use {', '.join(sorted(allowed))}."


def _batch(request, allowed: set[str]) -> tuple[list[dict] | None, Response | None]:
    """(the items: a list posted, or the one object; or the 400 that says why they are not acceptable). Keys an
    item does not know are refused by name, rather than dropped."""
    items = request.data if isinstance(request.data, list) else [request.data]
    if not items:
        return None, _refusal("Send one object or a non-empty list.")
    if len(items) > MAX_BATCH:
        return None, _refusal(f"Send at most {MAX_BATCH} items per request; this one has {len(items)}.")
    if not all(isinstance(item, dict) for item in items):
        return None, _refusal("Each item must be a JSON object.")
    unknown = [
        {"index": index, "field": key, "detail": _unknown_field(key, allowed)}
        for index, item in enumerate(items)
        for key in sorted(set(item) - allowed)
    ]
    return items, (_refused(unknown) if unknown else None)


def _serializer_errors(errors) -> list[dict]:
    """DRF's errors of a list ({field: [messages]} per item, as a list or by index) as the batch shape."""
    found = []
    per_item = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for index, item in per_item:
        if not isinstance(item, dict):  # an error about the list as a whole
            found.append({"index": 0, "field": None, "detail": str(item)})
            continue
        index = int(index)
        for field, messages in (item or {}).items():
            for message in messages if isinstance(messages, list) else [messages]:
                found.append({"index": index, "field": None if field == "non_field_errors" else field,
                              "detail": str(message)})  # fmt: skip
    return found


def _reason_errors(index: int, reason: str, fields: set[str]) -> list[dict]:
    """An importer reason ("kind: ...; account: ...") as the batch shape, one entry per field it names."""
    found = []
    for part in reason.split("; "):
        match = REASON_PART.match(part)
        if match and match["field"] in fields:
            detail = match["detail"] if match["detail"] is not None else f"{match['field']} {match['rest']}"
            found.append({"index": index, "field": match["field"], "detail": detail})
        else:
            field = next((f for f in fields if part.startswith((f"duplicate {f} ", f"{f} "))), None)
            found.append({"index": index, "field": field, "detail": part})
    return found


def _unseen_accounts(*, user, records: list[dict]) -> Response | None:
    """The 400 for items naming an account the poster may not see, worded as the importer words a missing one."""
    if account_visibility_q(user=user) is None:
        return None
    wanted = {record["account"] for record in records}
    seen = set(account_list(user=user).filter(pk__in=wanted).values_list("pk", flat=True))
    errors = [
        {"index": index, "field": "account", "detail": f"account {record['account']} does not exist"}
        for index, record in enumerate(records)
        if record["account"] not in seen
    ]
    return _refused(errors) if errors else None


def _import_batch(*, kind: str, records: list[dict], fields: set[str]) -> Response:
    """All or nothing: an item the importer refuses (unknown account, duplicate key...) writes nothing."""
    with transaction.atomic():
        report: ImportReport = import_records(kind=kind, records=records)
        if report.errors:
            transaction.set_rollback(True)
    return _report_response(report, kind=kind, fields=fields)


def _report_response(report: ImportReport, *, kind: str, fields: set[str]) -> Response:
    """201 with the counts when something was created, 200 when nothing was; 400 with each item's reasons (and
    nothing saved) when the report has errors."""
    if report.errors:
        return _refused([entry for e in report.errors for entry in _reason_errors(e.line - 1, e.reason, fields)])
    body = {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    if kind == "accounts":
        # Items matched to an account we have by domain or name: a confident match updated it (counted as
        # updated), a doubtful one was created and is reported here.
        body["matched"] = [{"index": line - 1, **m.as_dict()} for line, m in report.matches if m.confident]
        body["possible_duplicates"] = [
            {"index": line - 1, **m.as_dict()} for line, m in report.matches if not m.confident
        ]
    return Response(body, status=status.HTTP_201_CREATED if report.created else status.HTTP_200_OK)


def _validated(serializer_class, items: list[dict]) -> tuple[list[dict] | None, Response | None]:
    serializer = serializer_class(data=items, many=True)
    if not serializer.is_valid():
        return None, _refused(_serializer_errors(serializer.errors))
    return [dict(item) for item in serializer.validated_data], None


SIGNAL_FIELDS = {"account", "contact", "kind", "topic", "occurred_at", "source", "external_id"}


class SignalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Signals on accounts the user may see. POST one signal or a list of up to 1,000; idempotent on external_id."""

    serializer_class = SignalSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = SignalFilter
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        return signal_list(user=self.request.user)

    @extend_schema(request=SignalSerializer(many=True), responses=BATCH_RESPONSES)
    def create(self, request, *args, **kwargs):
        items, refusal = _batch(request, SIGNAL_FIELDS)
        if refusal:
            return refusal
        # The serializer's rules without a serializer per item (signal_items.py), then one statement (ingest.py).
        checked, errors = SignalItems(SignalSerializer).check(items)
        if errors:
            return _refused(errors)
        if account_visibility_q(user=request.user) is not None:
            refusal = _unseen_accounts(user=request.user, records=[item.record() for item in checked])
            if refusal:
                return refusal
        return _report_response(signals_ingest(checked), kind="signals", fields=SIGNAL_FIELDS)


class AccountBulkItemSerializer(AccountSerializer):
    class Meta(AccountSerializer.Meta):
        fields = [f for f in AccountSerializer.Meta.fields if f not in ("owner_detail", "territory_detail", "parent")]

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


ACCOUNT_BULK_FIELDS = {name for name, field in AccountBulkItemSerializer().fields.items() if not field.read_only}


class AccountBulkView(APIView):
    """Upsert up to 1,000 accounts by external_id or domain (admins). All or nothing. `attributes` are merged into
    what the account holds already. An item whose keys name no account is matched by domain, then by name and
    country: a confident match updates that account (`matched`), a doubtful one is created and reported
    (`possible_duplicates`)."""

    permission_classes = [IsRevOpsAdmin]

    @extend_schema(
        request=AccountBulkItemSerializer(many=True),
        responses={201: ACCOUNT_BATCH_RESULT, 200: ACCOUNT_BATCH_RESULT, 400: BATCH_REFUSED},
    )
    def post(self, request):
        items, refusal = _batch(request, ACCOUNT_BULK_FIELDS)
        if refusal:
            return refusal
        validated, refusal = _validated(AccountBulkItemSerializer, items)
        if refusal:
            return refusal
        records = []
        for item in validated:
            record = {k: v for k, v in item.items() if k not in ("owner", "territory")}
            # Relations arrive as objects; the importer takes their keys.
            if "owner" in item:
                record["owner"] = item["owner"].username if item["owner"] else None
            if "territory" in item:
                record["territory"] = item["territory"].name if item["territory"] else None
            records.append(record)
        return _import_batch(kind="accounts", records=records, fields=ACCOUNT_BULK_FIELDS)


class ContactBulkItemSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    class Meta:
        model = Contact
        fields = ["account", "external_id", "name", "email", "title", "persona"]
        extra_kwargs = {"external_id": {"validators": []}, "email": {"validators": []}}
        validators = []  # an existing contact is updated (the upsert), not refused

    def validate_email(self, value):
        return (value or "").strip().lower() or None

    def validate_external_id(self, value):
        return (value or "").strip() or None

    def validate(self, attrs):
        if not attrs.get("external_id") and not attrs.get("email"):
            raise serializers.ValidationError("Each contact needs an external_id or an email to be upserted.")
        return attrs


CONTACT_BULK_FIELDS = set(ContactBulkItemSerializer.Meta.fields)


class ContactBulkView(APIView):
    """Upsert up to 1,000 contacts (admins) by external_id, or by email within their account. All or nothing."""

    permission_classes = [IsRevOpsAdmin]

    @extend_schema(request=ContactBulkItemSerializer(many=True), responses=BATCH_RESPONSES)
    def post(self, request):
        items, refusal = _batch(request, CONTACT_BULK_FIELDS)
        if refusal:
            return refusal
        records, refusal = _validated(ContactBulkItemSerializer, items)
        if refusal:
            return refusal
        return _import_batch(kind="contacts", records=records, fields=CONTACT_BULK_FIELDS)
