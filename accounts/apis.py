"""REST API for accounts, contacts, signals and opportunities; every queryset comes from the access selectors."""

from __future__ import annotations

import django_filters
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from core.apis import MAX_ID, IdFilter
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin
from core.tiers import Tier

from .imports import ImportReport, import_records
from .imports import fields as import_fields
from .models import Account, Contact, Opportunity, Signal
from .selectors import account_list, account_visibility_q, contact_list, opportunity_list, signal_list
from .services import (
    account_create,
    account_delete,
    account_update,
    contact_create,
    contact_delete,
    contact_update,
    opportunity_create,
    opportunity_delete,
    opportunity_update,
)

MAX_BATCH = 1000
TIER_HISTORY_ROWS = 50
TRUE_FALSE = [("true", "true"), ("false", "false")]


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class TerritoryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AccountSerializer(serializers.ModelSerializer):
    owner_detail = UserRefSerializer(source="owner", read_only=True, allow_null=True)
    territory_detail = TerritoryRefSerializer(source="territory", read_only=True, allow_null=True)
    technologies = serializers.ListField(child=serializers.CharField(max_length=120), required=False)
    # Explicit bounds (the importer's): SQLite would not enforce the column sizes that PostgreSQL does.
    employee_count = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    year_founded = serializers.IntegerField(min_value=1000, max_value=2100, required=False, allow_null=True)
    attributes = serializers.DictField(required=False)
    tier = serializers.CharField(source="score.tier", read_only=True, allow_null=True, default=None)
    unified = serializers.FloatField(source="score.unified", read_only=True, allow_null=True, default=None)
    tier_since = serializers.DateTimeField(source="score.tier_since", read_only=True, allow_null=True, default=None)
    surge_until = serializers.DateTimeField(source="score.surge_until", read_only=True, allow_null=True, default=None)
    flags = serializers.ListField(
        child=serializers.CharField(), source="score.flags", read_only=True, allow_null=True, default=None,
        help_text="Which rule holds the tier: surge, hysteresis, min_days, capacity.",
    )  # fmt: skip
    expected_value = serializers.FloatField(
        source="potential.expected_value", read_only=True, allow_null=True, default=None,
        help_text="Spend potential (USD): win probability of its score band x mean won deal of its industry.",
    )  # fmt: skip

    class Meta:
        model = Account
        fields = [
            "id", "name", "domain", "external_id", "industry", "employee_count", "annual_revenue", "country",
            "region", "city", "year_founded", "technologies", "parent", "is_customer", "attributes",
            "owner", "owner_detail", "territory", "territory_detail", "tier", "unified", "tier_since", "surge_until",
            "flags", "expected_value", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"domain": {"validators": []}, "external_id": {"validators": []}}

    def _unique(self, field_name: str, value):
        others = Account.objects.filter(**{field_name: value})
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if value and others.exists():
            raise serializers.ValidationError(f"Another account has this {field_name}.")
        return value

    def validate_domain(self, value):
        try:
            return self._unique("domain", import_fields.domain(value))
        except import_fields.FieldError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_external_id(self, value):
        return self._unique("external_id", (value or "").strip() or None)

    def validate_parent(self, value):
        if value is not None and self.instance is not None and value.pk == self.instance.pk:
            raise serializers.ValidationError("An account cannot be its own parent.")
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # A parent outside the reader's scope is not shown, not even its id (see AccountViewSet.get_queryset).
        if getattr(instance, "parent_visible", True) is False:
            data["parent"] = None
        return data


class AccountCountsSerializer(serializers.Serializer):
    contacts = serializers.IntegerField()
    signals = serializers.IntegerField()
    opportunities = serializers.IntegerField()
    open_opportunities = serializers.IntegerField()


class AccountDetailSerializer(AccountSerializer):
    """One account, with how much hangs off it (everything on a visible account is visible with it). The account
    endpoint as served adds its score explained and its tier history (segmentation/apis.py)."""

    counts = serializers.SerializerMethodField()

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "counts"]

    @extend_schema_field(AccountCountsSerializer)
    def get_counts(self, obj) -> dict[str, int]:
        opportunities = obj.opportunities.aggregate(all=Count("id"), open=Count("id", filter=Q(is_closed=False)))
        return {
            "contacts": obj.contacts.count(),
            "signals": obj.signals.count(),
            "opportunities": opportunities["all"],
            "open_opportunities": opportunities["open"],
        }


class AccountFilter(django_filters.FilterSet):
    territory = IdFilter(field_name="territory_id")
    owner = IdFilter(field_name="owner_id")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    tier = django_filters.ChoiceFilter(field_name="score__tier", choices=Tier.choices)

    class Meta:
        model = Account
        fields = ["territory", "owner", "industry", "country", "tier"]


class NullsLastOrderingFilter(OrderingFilter):
    """Ordering where some names (the view's `nulls_last_orderings`: name -> field path) sort their empty values
    last either way, as the web lists do (PostgreSQL would put them first when descending)."""

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        paths = getattr(view, "nulls_last_orderings", {})
        terms = []
        for term in ordering:
            path = paths.get(term.lstrip("-")) if isinstance(term, str) else None
            if path is None:
                terms.append(term)
            else:
                terms.append(F(path).desc(nulls_last=True) if term.startswith("-") else F(path).asc(nulls_last=True))
        if any(not isinstance(term, str) for term in terms):
            terms.append("pk")  # ties (and every empty value) in a stable order across pages
        return queryset.order_by(*terms)


class AccountViewSet(viewsets.ModelViewSet):
    """Accounts the user may see; admins create, change and delete them."""

    serializer_class = AccountSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = AccountFilter
    search_fields = ["name", "domain", "=external_id"]
    filter_backends = [DjangoFilterBackend, SearchFilter, NullsLastOrderingFilter]
    ordering_fields = [
        "name", "created_at", "updated_at", "employee_count", "annual_revenue", "score__unified", "score__fit",
        "score__signal", "expected_value",
    ]  # fmt: skip
    ordering = ["name", "id"]
    nulls_last_orderings = {"expected_value": "potential__expected_value"}

    def get_queryset(self):
        user = self.request.user
        accounts = account_list(user=user).select_related("owner", "territory", "score", "potential")
        if account_visibility_q(user=user) is not None:
            # One indexed subquery per row rather than a query per account: may the reader see the parent?
            accounts = accounts.annotate(
                parent_visible=Exists(account_list(user=user).filter(pk=OuterRef("parent_id")))
            )
        return accounts

    def get_serializer_class(self):
        return AccountDetailSerializer if self.action == "retrieve" else AccountSerializer

    def perform_create(self, serializer):
        serializer.instance = account_create(values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = account_update(account=serializer.instance, values=serializer.validated_data)

    def perform_destroy(self, instance):
        account_delete(account=instance)


def _visible_account(serializer: serializers.Serializer, account: Account) -> Account:
    """The account a new contact or opportunity hangs on must be one the writer can see."""
    if not account_list(user=serializer.context["request"].user).filter(pk=account.pk).exists():
        raise serializers.ValidationError("No such account.")
    return account


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "account", "external_id", "name", "email", "title", "persona", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # one email per account: checked in validate() with a message on the email field

    def validate_account(self, value):
        return _visible_account(self, value)

    def validate_email(self, value):
        # The same form as the importer's, so an import and the API find the same contact by email.
        return (value or "").strip().lower() or None

    def validate_external_id(self, value):
        return (value or "").strip() or None

    def validate(self, attrs):
        account = attrs.get("account", getattr(self.instance, "account", None))
        email = attrs.get("email", getattr(self.instance, "email", None))
        if account is not None and email:
            others = Contact.objects.filter(account=account, email=email)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError({"email": "This account already has a contact with this email."})
        return attrs


class ContactFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")

    class Meta:
        model = Contact
        fields = ["account", "persona"]


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts on the accounts the user may see; admins create, change and delete them."""

    serializer_class = ContactSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = ContactFilter
    search_fields = ["name", "email", "=external_id"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return contact_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = contact_create(values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = contact_update(contact=serializer.instance, values=serializer.validated_data)

    def perform_destroy(self, instance):
        contact_delete(contact=instance)


class OpportunitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = [
            "id", "account", "external_id", "name", "product", "amount", "stage", "is_closed", "is_won",
            "engaged_on", "closed_on", "owner", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate_account(self, value):
        return _visible_account(self, value)

    def validate(self, attrs):
        is_won = attrs.get("is_won", getattr(self.instance, "is_won", False))
        is_closed = attrs.get("is_closed", getattr(self.instance, "is_closed", False))
        if is_won and not is_closed:
            raise serializers.ValidationError({"is_won": "A won opportunity must be closed."})
        engaged, closed = attrs.get("engaged_on"), attrs.get("closed_on")
        if engaged and closed and closed < engaged:
            raise serializers.ValidationError({"closed_on": "The close date is before the engage date."})
        return attrs


class OpportunityFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Opportunity
        fields = ["account", "owner", "stage", "is_closed", "is_won"]


class OpportunityViewSet(viewsets.ModelViewSet):
    """Opportunities on the accounts the user may see; admins create, change and delete them."""

    serializer_class = OpportunitySerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = OpportunityFilter
    search_fields = ["name", "product", "=external_id"]
    ordering_fields = ["closed_on", "engaged_on", "amount", "created_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return opportunity_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = opportunity_create(values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = opportunity_update(opportunity=serializer.instance, values=serializer.validated_data)

    def perform_destroy(self, instance):
        opportunity_delete(opportunity=instance)


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
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

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
