import django_filters
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils.functional import cached_property

from core.roles import is_admin, is_rep
from core.summaries import counted
from core.tiers import Tier

from .models import Account, territory_model
from .selectors import account_values_present, covered_ids, surging_filter_q, surging_topics_present
from .tables import person_label
from .topics import topic_key

NO_TERRITORY = "No territory"


def may_see_accounts_without_territory(user) -> bool:
    """Admins see every account; a rep sees those they own, wherever they are. A manager sees only the accounts of
    their territories, so never one without a territory."""
    return is_admin(user) or is_rep(user)


def visible_territories(*, user):
    """The territories a user may filter by: all for admins, those they cover for the others."""
    territories = territory_model()._default_manager.all()
    return territories if is_admin(user) else territories.filter(pk__in=sorted(covered_ids(user)))


class AccountFilter(django_filters.FilterSet):
    """Filters of the account list; every choice offered comes from what the user may see."""

    q = django_filters.CharFilter(method="search", label="Search")
    territory = django_filters.ModelChoiceFilter(
        queryset=None, empty_label="Any territory", null_label=NO_TERRITORY, null_value="none"
    )
    owner = django_filters.CharFilter(method="by_owner", label="Owner")
    # Picked from the values present (account_values_present); matched exactly, so the industry index serves it.
    industry = django_filters.CharFilter(method="by_value", label="Industry")
    country = django_filters.CharFilter(method="by_value", label="Country")
    tier = django_filters.ChoiceFilter(field_name="score__tier", choices=Tier.choices, empty_label="Any tier")
    # Picked from the topics surging in the user's accounts (surging_topics_present); any case matches.
    surging_topic = django_filters.CharFilter(method="by_surging_topic", label="Surging topic")

    class Meta:
        model = Account
        fields = ["q", "territory", "owner", "industry", "country", "tier", "surging_topic"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["territory"].queryset = visible_territories(user=user)
        if not may_see_accounts_without_territory(user):
            # A manager sees only their territories' accounts: "No territory" would always be empty.
            self.filters["territory"].extra["null_label"] = None

    @cached_property
    def territory_choices(self) -> list[tuple[str, str]]:
        """The territory filter's choices ("Any territory", "No territory" where it applies, then each territory), read
        as (id, name) pairs: the form field's own choices would build a territory object each through a server-side
        cursor, for the same labels."""
        field = self.filters["territory"]
        choices = [("", field.extra["empty_label"])]
        if field.extra.get("null_label"):
            choices.append((field.extra["null_value"], field.extra["null_label"]))
        return choices + [(str(pk), name) for pk, name in field.queryset.values_list("pk", "name")]

    @cached_property
    def industry_choices(self) -> list[str]:
        return self.pick_list("industry")

    @cached_property
    def country_choices(self) -> list[str]:
        return self.pick_list("country")

    @cached_property
    def surging_topic_choices(self) -> list[tuple[str, str]]:
        """(topic, label) of the topics surging in the user's accounts, plus the one asked for if it surges nowhere
        they can see (a link from elsewhere), so the list shows it chosen."""
        offered = surging_topics_present(user=self.user)
        chosen = topic_key(self.form["surging_topic"].value())
        if chosen and chosen not in {topic for topic, _ in offered}:
            offered.append((chosen, chosen))
        return offered

    def by_surging_topic(self, queryset, name, value):
        return queryset.filter(surging_filter_q(value)) if topic_key(value) else queryset

    def pick_list(self, field: str) -> list[str]:
        """The values offered for `field` (industry, country): those present in the user's accounts, one per spelling
        that differs only in case ("Software" for "software" too), plus the one asked for if it is not among them (a
        link from elsewhere, a value imported since the list was made)."""
        offered = {}
        for value in account_values_present(user=self.user, field=field):
            key = value.casefold()
            if key not in offered or (offered[key].islower() and not value.islower()):
                offered[key] = value  # a capitalised spelling reads better
        chosen = (self.form[field].value() or "").strip()
        if chosen:
            offered[chosen.casefold()] = chosen  # as asked, so that the list shows it chosen
        return sorted(offered.values(), key=lambda v: (v.casefold(), v))

    def by_value(self, queryset, name, value):
        """The accounts whose `name` is `value`, in any case: every spelling present in the user's accounts is looked
        up exactly (an IN over the column's index), rather than comparing upper-cased text row by row."""
        value = value.strip()
        if not value:
            return queryset
        spellings = {v for v in account_values_present(user=self.user, field=name) if v.casefold() == value.casefold()}
        return queryset.filter(**{f"{name}__in": sorted(spellings | {value})})

    def owner_choices(self) -> list[tuple[str, str]]:
        """`Me`, `Unassigned`, then the active members of the territories the user may see.

        Built from the visible territories (not from the owners of visible accounts) so the page costs one small
        query whatever the number of accounts; shared like the other pick lists for COUNTS_CACHE_SECONDS by the
        pages of the same reader and scope (an admin's list holds every member: hundreds, read and labelled on each
        page otherwise). Filtering by an owner not offered yet (a member added since) still works: the filter takes
        any owner in scope.
        """
        territories = self.filters["territory"].queryset
        members = (
            User.objects.filter(memberships__territory__in=territories, memberships__is_active=True)
            .exclude(pk=self.user.pk)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )

        def labelled() -> list[tuple[str, str]]:
            # Read as values, not users: the label is get_full_name()'s, or the username.
            return [
                (str(pk), person_label(first, last, username))
                for pk, first, last, username in members.values_list("pk", "first_name", "last_name", "username")
            ]

        scope = ("all" if is_admin(self.user) else sorted(covered_ids(self.user)), self.user.pk)
        return [("me", "Me"), ("none", "Unassigned"), *counted("account-owner-choices", scope, labelled)[0]]

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
