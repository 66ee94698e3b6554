"""`accounts/`: the accounts the user may see (segmentation adds the score's filters and explanation: see
segmentation/account_apis.py)."""

from __future__ import annotations

import re
from functools import partial

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response

from core.apis import MAX_ID, IdFilter, updated_since_filter
from core.pagination import KnownCountPaginator
from core.permissions import IsRevOpsAdmin, ReadScopedWriteAdmin
from core.tiers import Tier

from ..criteria import COMPUTED_FIELDS, computed_field_message
from ..duplicates import match_records, matched_values
from ..imports import fields as import_fields
from ..merge import account_merge
from ..models import Account
from ..selectors import (
    account_list,
    account_visibility_q,
    one_tier_scores,
    scored_account_list,
    scored_count,
    surging_filter_q,
    visible_parent,
)
from ..services import (
    account_create,
    account_delete,
    account_update,
)
from ..tables import ScoreIndexPages, related_or_none
from .numbers import AmountField, WholeNumberField

MAX_BATCH = 1000


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
    employee_count = WholeNumberField(required=False, allow_null=True)
    year_founded = WholeNumberField(minimum=1000, maximum=2100, required=False, allow_null=True)
    annual_revenue = AmountField(required=False, allow_null=True, help_text="USD")
    attributes = serializers.DictField(required=False)
    lookalike = serializers.FloatField(
        read_only=True, allow_null=True,
        help_text="Lookalike score 0-100: how much the account resembles the accounts won lately (computed; null until "
        "first computed; it cannot be written).",
    )  # fmt: skip
    surging_topics = serializers.ListField(
        child=serializers.CharField(), read_only=True,
        help_text="The topics of the account's signals surging now (lower case; computed nightly, never written).",
    )  # fmt: skip
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
            "region", "city", "year_founded", "technologies", "parent", "is_customer", "attributes", "lookalike",
            "surging_topics",
            "owner", "owner_detail", "territory", "territory_detail", "tier", "unified", "tier_since", "surge_until",
            "flags", "expected_value", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"domain": {"validators": []}, "external_id": {"validators": []}}

    def to_internal_value(self, data):
        # Computed fields are refused, not silently ignored: the writer learns that their value was not kept.
        if hasattr(data, "keys"):
            computed = sorted(name for name in COMPUTED_FIELDS if name in data)
            attributes = data.get("attributes")
            if isinstance(attributes, dict):
                computed += sorted(f"attributes.{name}" for name in COMPUTED_FIELDS if name in attributes)
            if computed:
                raise serializers.ValidationError({name: [computed_field_message(name)] for name in computed})
        return super().to_internal_value(data)

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
        # An account as the list shows it is written field by field here (`_account_fields`), what DRF's generic loop
        # writes (tests/accounts/test_api_accounts.py compares the two) for 29 fields of each of a page's 50 accounts;
        # bench/pages.py times both. Subclasses (more fields) take the generic way.
        if type(self) is AccountSerializer:
            data = self._account_fields(instance)
        else:
            data = super().to_representation(instance)
        # A parent outside the reader's scope is not shown, not even its id (see AccountViewSet.get_queryset and
        # paginate_queryset, which answer it for a page at once; otherwise it is asked here).
        if instance.parent_id is not None and not self._parent_visible(instance):
            data["parent"] = None
        return data

    def _account_fields(self, a) -> dict:
        """The fields of Meta.fields, in order, as their DRF fields write them: ids and numbers as they are, text as
        str, lists and the attributes copied, the dates and the revenue by their own fields (time zone, format)."""
        fields = self.fields
        score, potential = related_or_none(a, "score"), related_or_none(a, "potential")
        owner, territory = a.owner, a.territory

        def shown(name, value):
            return None if value is None else fields[name].to_representation(value)

        def texts(values):
            return None if values is None else [None if v is None else str(v) for v in values]

        return {
            "id": a.id,
            "name": a.name,
            "domain": None if a.domain is None else str(a.domain),
            "external_id": None if a.external_id is None else str(a.external_id),
            "industry": a.industry,
            "employee_count": a.employee_count,
            "annual_revenue": shown("annual_revenue", a.annual_revenue),
            "country": a.country,
            "region": a.region,
            "city": a.city,
            "year_founded": a.year_founded,
            "technologies": texts(a.technologies),
            "parent": a.parent_id,
            "is_customer": a.is_customer,
            "attributes": None if a.attributes is None else {str(k): v for k, v in a.attributes.items()},
            "lookalike": None if a.lookalike is None else float(a.lookalike),
            "surging_topics": texts(a.surging_topics),
            "owner": a.owner_id,
            "owner_detail": None if owner is None else {"id": owner.id, "username": owner.username},
            "territory": a.territory_id,
            "territory_detail": None if territory is None else {"id": territory.id, "name": territory.name},
            "tier": None if score is None else score.tier,
            "unified": None if score is None or score.unified is None else float(score.unified),
            "tier_since": None if score is None else shown("tier_since", score.tier_since),
            "surge_until": None if score is None else shown("surge_until", score.surge_until),
            "flags": None if score is None else texts(score.flags),
            "expected_value": None
            if potential is None or potential.expected_value is None
            else float(potential.expected_value),
            "created_at": shown("created_at", a.created_at),
            "updated_at": shown("updated_at", a.updated_at),
        }

    def _parent_visible(self, instance) -> bool:
        known = getattr(instance, "parent_visible", None)
        if known is not None:
            return known
        request = self.context.get("request")
        return request is None or visible_parent(user=request.user, account=instance) is not None


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


class AccountCreatedSerializer(AccountSerializer):
    """A created account (201), or the account we have that the one posted matched confidently (200)."""

    match = serializers.DictField(
        read_only=True, allow_null=True,
        help_text="200: the account we have that the one posted matched (score, evidence), which it updated; "
        "201: null.",
    )  # fmt: skip
    possible_duplicates = serializers.ListField(
        child=serializers.DictField(), read_only=True,
        help_text="201: an account we have that the new one may duplicate (score and evidence), for review; 200: "
        "empty.",
    )  # fmt: skip

    class Meta(AccountSerializer.Meta):
        fields = [*AccountSerializer.Meta.fields, "match", "possible_duplicates"]


class AccountFilter(django_filters.FilterSet):
    territory = IdFilter(field_name="territory_id")
    owner = IdFilter(field_name="owner_id")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    tier = django_filters.ChoiceFilter(field_name="score__tier", choices=Tier.choices)
    surging_topic = django_filters.CharFilter(
        method="by_surging_topic",
        help_text="Accounts on which this topic surges now (any case; see surging_topics).",
    )
    updated_since = updated_since_filter()

    class Meta:
        model = Account
        fields = ["territory", "owner", "industry", "country", "tier", "surging_topic", "updated_since"]

    def by_surging_topic(self, queryset, name, value):
        return queryset.filter(surging_filter_q(value)) if value.strip() else queryset


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
        if not any(isinstance(term, str) and term.lstrip("-") in {"pk", "id"} for term in terms):
            terms.append("pk")  # ties (and every empty value) in a stable order across pages
        return queryset.order_by(*terms)


class OneTierPaginator(ScoreIndexPages, KnownCountPaginator):
    """The API's pages of one tier in a score order, found in the scores' index (accounts.tables.ScoreIndexPages), with
    the tier's exact count."""


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
        # Filtered by tier, only scored accounts can match: their scores' copy of territory and owner lets a scoped
        # reader's list be one range of a score index (accounts.selectors.scored_account_list).
        scope = scored_account_list if self.action == "list" and self.request.query_params.get("tier") else account_list
        accounts = scope(user=user).select_related("owner", "territory", "score", "potential")
        if self.action == "list":
            accounts = accounts.only(*self.LIST_READS)
        if self.action != "list" and account_visibility_q(user=user) is not None:
            # May the reader see the parent? (A list answers it for its page at once: paginate_queryset.)
            accounts = accounts.annotate(
                parent_visible=Exists(account_list(user=user).filter(pk=OuterRef("parent_id")))
            )
        return accounts

    # What a list's page reads (AccountSerializer writes these): of the owner, territory, score and spend potential
    # only the fields shown, so a page of 50 does not read and decode each owner's password and dates, nor each
    # score's lists of matched criteria and personas.
    LIST_READS = (
        *(name for name in AccountSerializer.Meta.fields if name in {f.name for f in Account._meta.concrete_fields}),
        "owner__username", "territory__name", "score__tier", "score__unified", "score__tier_since",
        "score__surge_until", "score__flags", "potential__expected_value",
    )  # fmt: skip

    # A list asked with these parameters only (a tier, an order, a page) counts from the scores alone.
    COUNTED_FROM_SCORES = frozenset({"tier", "ordering", "page", "page_size", "format"})
    # The orderings of such a list that its scores' index serves (the orders of accounts.tables.ONE_TIER_SCORE_KEYS).
    SCORE_ORDERS = {"-score__unified": "-unified", "score__unified": "unified"}

    def paginate_queryset(self, queryset):
        params = self.request.query_params
        if self.action == "list" and params.get("tier") and set(params) <= self.COUNTED_FROM_SCORES:
            # The exact count as the list's own would give it, from an index of the scores instead of a join of every
            # account of the tier (accounts.selectors.scored_count); in a score order, each page's accounts found in
            # that index too, where the list's own query joined and skipped up to a thousand accounts per page.
            user, tier = self.request.user, params["tier"]
            count = scored_count(user=user, tier=tier)
            order = self.SCORE_ORDERS.get(params.get("ordering", ""))
            self.paginator.django_paginator_class = (
                partial(KnownCountPaginator, count=count)
                if order is None
                else partial(
                    OneTierPaginator,
                    **one_tier_scores(user=user, tier=tier),
                    order=order,
                    count=count,
                )
            )
        page = super().paginate_queryset(queryset)
        if page is not None and account_visibility_q(user=self.request.user) is not None:
            # One look-up for the page's parents, instead of a subquery planned over every account of the list.
            parents = {a.parent_id for a in page if a.parent_id is not None}
            visible = set(account_list(user=self.request.user).filter(pk__in=parents).values_list("pk", flat=True))
            for account in page:
                account.parent_visible = account.parent_id in visible
        return page

    def get_serializer_class(self):
        return AccountDetailSerializer if self.action == "retrieve" else AccountSerializer

    @extend_schema(responses={201: AccountCreatedSerializer, 200: AccountCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """A new account, unless it is one we have: matched by domain, then by name and country. A confident match
        updates that account instead (200, with `match`); a doubtful one is created (201) and reported in
        `possible_duplicates`."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        match = match_records([values])[0]
        if match is not None and match.confident:
            account = account_update(
                account=match.account, values=matched_values(values, match.account), by=request.user
            )
            body = dict(self.get_serializer(account).data)
            body.update(match=match.as_dict(), possible_duplicates=[])
            return Response(body, status=status.HTTP_200_OK)
        serializer.instance = account_create(values=values)
        body = dict(serializer.data)
        body.update(match=None, possible_duplicates=[match.as_dict()] if match is not None else [])
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer("AccountMergeRequest", {"loser": serializers.IntegerField(min_value=1)}),
        responses={
            200: inline_serializer(
                "AccountMergeResult",
                {
                    "survivor": serializers.IntegerField(),
                    "merged_account": serializers.IntegerField(),
                    "merged_name": serializers.CharField(),
                    "moved": serializers.DictField(help_text="By kind of record: moved, merged, replaced."),
                },
            )
        },
    )
    @action(detail=True, methods=["post"], permission_classes=[IsRevOpsAdmin])
    def merge(self, request, pk=None):
        """Merge the account `loser` into this one (admins): everything that points at it moves here, and it is
        deleted."""
        survivor = self.get_object()
        loser_id = request.data.get("loser") if isinstance(request.data, dict) else None
        if (
            isinstance(loser_id, bool)
            or not isinstance(loser_id, int | str)
            or not re.fullmatch(r"[0-9]{1,20}", str(loser_id))
            or int(loser_id) > MAX_ID
        ):
            return Response({"loser": ["Give the id of the account to merge into this one."]}, status=400)
        loser = Account.objects.filter(pk=int(loser_id)).first()
        if loser is None:
            return Response({"loser": [f"No account has the id {loser_id}."]}, status=400)
        try:
            record = account_merge(survivor=survivor, loser=loser, by=request.user)
        except ValidationError as exc:
            return Response({"loser": exc.messages}, status=400)
        return Response(
            {
                "survivor": survivor.pk,
                "merged_account": record.merged_account_id,
                "merged_name": record.merged_name,
                "moved": record.moved,
            }
        )

    def perform_update(self, serializer):
        serializer.instance = account_update(
            account=serializer.instance, values=serializer.validated_data, by=self.request.user
        )

    def perform_destroy(self, instance):
        account_delete(account=instance)
