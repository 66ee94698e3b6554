"""The account endpoint as served (`/api/v1/accounts/`): accounts' own endpoint, with the ownership rules
territories adds, and what the scoring rules add: the surging and capacity filters, and on one account its score
explained and its tier history."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import apis as account_apis
from territories import apis as territory_apis

from .explain import explain
from .filters import HeldFilters
from .models import AccountScore
from .rollups import account_group
from .selectors import account_lookalike, account_tier_changes

TIER_HISTORY_ROWS = 50
GROUP_CHILDREN_ROWS = 50
TRUE_FALSE = [("true", "true"), ("false", "false")]


class TierHistorySerializer(serializers.Serializer):
    from_tier = serializers.CharField()
    to_tier = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    fit = serializers.FloatField()
    signal = serializers.FloatField()
    unified = serializers.FloatField()


class LookalikeNeighbourSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    year_won = serializers.IntegerField(allow_null=True)


class LookalikeReasonsSerializer(serializers.Serializer):
    """Why the account has its lookalike score: its nearest won accounts the reader may see (the others only
    counted in `hidden`), the traits it shares with them, and the same in a sentence."""

    score = serializers.FloatField()
    neighbours = LookalikeNeighbourSerializer(many=True)
    hidden = serializers.IntegerField(help_text="Nearest won accounts outside the reader's scope (never named).")
    traits = serializers.ListField(child=serializers.CharField())
    sentence = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)


class ScoredAccountDetailSerializer(account_apis.AccountDetailSerializer):
    """One account with its score explained (fit groups, signal kinds, coverage, weights, the tier's reason, in
    numbers and in sentences) and its latest tier moves, newest first."""

    score = serializers.SerializerMethodField()
    tier_history = serializers.SerializerMethodField()
    group_score = serializers.SerializerMethodField()
    lookalike_reasons = serializers.SerializerMethodField()

    class Meta(account_apis.AccountDetailSerializer.Meta):
        fields = [
            *account_apis.AccountDetailSerializer.Meta.fields,
            "score",
            "tier_history",
            "group_score",
            "lookalike_reasons",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "additionalProperties": {},
            "description": "null unless the account has subsidiaries. The group (the account and its subsidiaries) "
            "scored by the model's rule (`max`: highest score in the group; `sum_signals`: the group's summed signal "
            "blended with the parent's fit): rule, rule_label, value, own, sentence; `children`: the best "
            f"{GROUP_CHILDREN_ROWS} subsidiaries the caller may see (id, name, tier, tier_label, unified); "
            "`outside_scope`: how many subsidiaries are outside the caller's territories (never listed).",
        }
    )
    def get_group_score(self, obj) -> dict | None:
        group = account_group(user=self.context["request"].user, account=obj, per_page=GROUP_CHILDREN_ROWS)
        if group is None:
            return None
        return {
            "rule": group["rule"],
            "rule_label": group["rule_label"],
            "value": group["value"],
            "own": group["own"],
            "sentence": group["sentence"],
            "children": [{k: c[k] for k in ("id", "name", "tier", "tier_label", "unified")} for c in group["children"]],
            "children_total": group["children_total"],
            "children_visible": group["children_visible"],
            "outside_scope": group["outside_scope"],
        }

    @extend_schema_field(LookalikeReasonsSerializer(allow_null=True))
    def get_lookalike_reasons(self, obj) -> dict | None:
        request = self.context.get("request")
        reasons = account_lookalike(account=obj, user=request.user) if request is not None else None
        return LookalikeReasonsSerializer(reasons).data if reasons else None

    @extend_schema_field(TierHistorySerializer(many=True))
    def get_tier_history(self, obj) -> list[dict]:
        changes, _ = account_tier_changes(account=obj, limit=TIER_HISTORY_ROWS)
        return TierHistorySerializer(changes, many=True).data

    @extend_schema_field(
        {"type": "object", "nullable": True, "additionalProperties": {}, "description": "null until it is scored"}
    )
    def get_score(self, obj) -> dict | None:
        score = AccountScore.objects.select_related("model__icp").filter(account=obj).first()
        return explain(score) if score else None


class ScoredAccountFilter(HeldFilters, account_apis.AccountFilter):
    YES = "true"

    surging = django_filters.ChoiceFilter(
        choices=TRUE_FALSE, method="by_surging", help_text="true: surging now (surge_until is later than now)."
    )
    capacity = django_filters.ChoiceFilter(
        choices=TRUE_FALSE, method="by_capacity", help_text="true: held at Tier 2 by the territory's Tier 1 capacity."
    )

    class Meta(account_apis.AccountFilter.Meta):
        fields = [*account_apis.AccountFilter.Meta.fields, "surging", "capacity"]


class AccountViewSet(territory_apis.AccountViewSet):
    """Accounts the user may see, with their scores; admins create, change and delete them (under the ownership
    rules of territories/apis.py)."""

    filterset_class = ScoredAccountFilter

    def get_serializer_class(self):
        return ScoredAccountDetailSerializer if self.action == "retrieve" else account_apis.AccountSerializer
