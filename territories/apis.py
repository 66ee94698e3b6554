from rest_framework import serializers, viewsets

from .models import Membership, Territory
from .selectors import membership_list, territory_list


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id", "user", "username", "territory", "role", "max_accounts", "max_tier1_accounts",
            "away_from", "away_until", "is_active",
        ]  # fmt: skip


class TerritorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Territory
        fields = ["id", "name", "parent", "priority", "criteria", "strategy", "is_active", "created_at", "updated_at"]


class TerritoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Territories the user may see: all for admins, managed ones and below for managers, their own for reps."""

    serializer_class = TerritorySerializer
    filterset_fields = ["parent", "is_active", "strategy"]
    search_fields = ["name"]
    ordering = ["priority", "name"]

    def get_queryset(self):
        return territory_list(user=self.request.user)


class MembershipViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MembershipSerializer
    filterset_fields = ["territory", "user", "role", "is_active"]
    ordering = ["territory", "role", "user"]

    def get_queryset(self):
        return membership_list(user=self.request.user)
