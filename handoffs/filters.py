"""What the handoff list is narrowed by; every choice offered comes from the user's scope."""

from __future__ import annotations

import django_filters
from django.contrib.auth.models import User
from django.db.models import Q

from core.filtersets import PartialFilterMixin
from core.tiers import Tier
from territories.selectors import territory_list

from .models import Handoff

YES_NO = [("yes", "Yes"), ("no", "No")]
HANDOFF_TIERS = [(Tier.TIER_1.value, Tier.TIER_1.label), (Tier.TIER_2.value, Tier.TIER_2.label),
                 (Tier.TIER_3.value, Tier.TIER_3.label)]  # fmt: skip
UNASSIGNED = "none"


class HandoffFilter(PartialFilterMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Handoff.Status.choices, empty_label="Any status")
    territory = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any territory")
    owner = django_filters.ChoiceFilter(choices=[], method="by_owner", empty_label="Any owner")
    tier = django_filters.ChoiceFilter(choices=HANDOFF_TIERS, empty_label="Any tier")
    breached = django_filters.ChoiceFilter(choices=YES_NO, method="by_breached", empty_label="Breached or not")

    class Meta:
        model = Handoff
        fields = ["status", "territory", "owner", "tier", "breached"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        territories = territory_list(user=user)
        self.filters["territory"].queryset = territories
        # Members of the visible territories and owners of visible handoffs: one query.
        owners = self.queryset.order_by().filter(owner__isnull=False).values("owner_id")
        members = (
            User.objects.filter(Q(memberships__territory__in=territories) | Q(pk__in=owners))
            .distinct()
            .order_by("first_name", "last_name", "username")
            .only("first_name", "last_name", "username")
        )
        self.filters["owner"].extra["choices"] = [
            (UNASSIGNED, "Unassigned"),
            *((str(u.pk), u.get_full_name() or u.username) for u in members),
        ]

    def by_owner(self, queryset, name, value):
        if value == UNASSIGNED:
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=int(value))

    def by_breached(self, queryset, name, value):
        return queryset.filter(breached_at__isnull=value != "yes")
