import django_filters
from django.contrib.auth.models import User
from django.db.models import Q

from core.access import covered_territory_ids
from core.roles import is_admin
from core.tiers import Tier

from .models import Account, territory_model


def visible_territories(*, user):
    """The territories a user may filter by: all for admins, those they cover for the others."""
    territories = territory_model()._default_manager.all()
    return territories if is_admin(user) else territories.filter(pk__in=sorted(covered_territory_ids(user)))


class AccountFilter(django_filters.FilterSet):
    """Filters of the account list; every choice offered comes from what the user may see."""

    q = django_filters.CharFilter(method="search", label="Search")
    territory = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any territory")
    owner = django_filters.CharFilter(method="by_owner", label="Owner")
    industry = django_filters.CharFilter(lookup_expr="iexact")
    country = django_filters.CharFilter(lookup_expr="iexact")
    tier = django_filters.ChoiceFilter(field_name="score__tier", choices=Tier.choices, empty_label="Any tier")

    class Meta:
        model = Account
        fields = ["q", "territory", "owner", "industry", "country", "tier"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["territory"].queryset = visible_territories(user=user)

    def owner_choices(self) -> list[tuple[str, str]]:
        """`Me`, `Unassigned`, then the active members of the territories the user may see.

        Built from the visible territories (not from the owners of visible accounts) so the
        page costs one small query whatever the number of accounts.
        """
        members = (
            User.objects.filter(
                memberships__territory__in=self.filters["territory"].queryset, memberships__is_active=True
            )
            .exclude(pk=self.user.pk)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        choices = [("me", "Me"), ("none", "Unassigned")]
        choices += [
            (str(u.pk), u.get_full_name() or u.username) for u in members.only("first_name", "last_name", "username")
        ]
        return choices

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(domain__icontains=value) | Q(external_id__iexact=value))

    def by_owner(self, queryset, name, value):
        """`me`, `none` (unassigned), a user id or a username."""
        value = value.strip()
        if value == "me":
            return queryset.filter(owner=self.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        owner = User.objects.filter(username=value).first()
        return queryset.filter(owner=owner) if owner else queryset.none()
