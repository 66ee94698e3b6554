"""Reads about territories and who belongs to them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.criteria import VALUE_COLUMNS, account_values, criterion_from_dict
from accounts.models import Account
from accounts.selectors import account_list
from core.access import remembered
from core.roles import is_admin, is_manager, is_rep
from core.summaries import counted

from .models import Membership, Territory
from .routing import Matcher, TerritoryRule, away_on


def territory_descendant_ids(*, root_ids: set[int]) -> set[int]:
    """The given territories and every territory below them in the hierarchy."""
    if not root_ids:
        return set()
    return _below(root_ids, Territory.objects.order_by().values_list("id", "parent_id"))


def _below(root_ids, tree) -> set[int]:
    """`root_ids` and every territory below them, in `tree` ((id, parent id) of every territory)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in tree:
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = list(root_ids)
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.add(pk)
        stack.extend(children.get(pk, ()))
    return found


def territory_ids_managed_by(*, user) -> set[int]:
    """Territories the user manages, with their descendants (looked up once per request where the page asked for it:
    core.access.remember_for_request)."""
    if not user.is_authenticated:
        return set()

    def managed() -> frozenset[int]:
        # The hierarchy and which of its territories the user manages, in one query.
        manages = Membership.objects.filter(
            user=user, role=Membership.Role.MANAGER, is_active=True, territory=OuterRef("pk")
        )
        tree = list(Territory.objects.order_by().values_list("id", "parent_id", Exists(manages)))
        roots = {pk for pk, _, is_managed in tree if is_managed}
        return frozenset(_below(roots, [(pk, parent_id) for pk, parent_id, _ in tree]) if roots else ())

    return set(remembered(user, "territories_managed", managed))


def territory_ids_member_of(*, user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user, is_active=True).values_list("territory_id", flat=True))


def territory_ids_covered_by(user) -> set[int]:
    """The territories whose accounts a user sees (besides those they own): for a manager those they manage and
    those below, for a rep those they are an active member of. The access rule of accounts asks this
    (core/access.py)."""
    ids: set[int] = set()
    if is_manager(user):
        ids |= territory_ids_managed_by(user=user)
    if is_rep(user):
        ids |= territory_ids_member_of(user=user)
    return ids


def territory_list(*, user) -> QuerySet[Territory]:
    """Territories a user may see: all for admins, managed ones (and below) for managers, their own for reps."""
    qs = Territory.objects.all()
    if is_admin(user):
        return qs
    return qs.filter(id__in=territory_ids_covered_by(user))


def territories_counted(territories, *, shared: bool = False) -> tuple[list[Territory], dt.datetime]:
    """(the territories, each with `account_total`, `unassigned` (accounts no one owns) and `member_total` (active
    members); when they were counted). One GROUP BY per table over the territories' accounts and memberships.
    (Counting through a join of territories, accounts and memberships multiplies the rows by the members and then
    counts them DISTINCT: seconds at a million accounts.) `shared`: the counts may be up to COUNTS_CACHE_SECONDS old,
    shared by every page that shows the same territories (core/summaries.py)."""
    territories = list(territories)
    ids = sorted(t.pk for t in territories)

    def compute() -> dict[int, tuple[int, int, int]]:
        accounts = {
            row["territory_id"]: row
            for row in Account.objects.filter(territory_id__in=ids)
            .order_by()
            .values("territory_id")
            .annotate(total=Count("id"), unassigned=Count("id", filter=Q(owner__isnull=True)))
        }
        members = dict(
            Membership.objects.filter(territory_id__in=ids, is_active=True)
            .order_by()
            .values("territory_id")
            .annotate(n=Count("id"))
            .values_list("territory_id", "n")
        )
        return {
            pk: (accounts.get(pk, {}).get("total", 0), accounts.get(pk, {}).get("unassigned", 0), members.get(pk, 0))
            for pk in ids
        }

    counts, as_of = counted("territories", ids, compute) if shared else (compute(), timezone.now())
    for territory in territories:
        territory.account_total, territory.unassigned, territory.member_total = counts[territory.pk]
    return territories, as_of


def membership_list(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(territory__in=territory_list(user=user)).select_related("user", "territory")


def territory_ids_assignable_by(*, user) -> set[int] | None:
    """Territories whose members and owners a user may change: None means all (admins)."""
    if is_admin(user):
        return None
    if is_manager(user):
        return territory_ids_managed_by(user=user)
    return set()


def unassigned_accounts(*, territory: Territory):
    """The territory's queue: its accounts that no one owns, for its managers."""
    return territory.accounts.filter(owner__isnull=True).order_by("name", "id")


def territory_member_choices(*, territory_id: int) -> list[tuple[int, str]]:
    """The members an account of this territory may be given to, as (user id, label) for a form: see
    `owner_options`."""
    return [(o.user_id, o.label) for o in owner_options(territory_ids=[territory_id]).get(territory_id, [])]


def can_assign_in(*, user, territory_id: int | None) -> bool:
    """Whether a user may (re)assign owners in a territory."""
    if territory_id is None:
        return False
    allowed = territory_ids_assignable_by(user=user)
    return allowed is None or territory_id in allowed


def territory_member_choices_by_territory(*, territory_ids) -> dict[int, list[tuple[int, str]]]:
    """`territory_member_choices` of each territory, in two queries whatever their number."""
    return {
        territory_id: [(o.user_id, o.label) for o in options]
        for territory_id, options in owner_options(territory_ids=territory_ids).items()
    }


# --- Accounts in no territory, and the account search of the territory form --------------------------------------

SEARCH_RESULTS = 20


def unrouted_accounts() -> QuerySet[Account]:
    """Accounts in no territory (no territory's rules match them and none names them), by name: the admins' queue.
    Read through the (territory, name) index."""
    return Account.objects.filter(territory__isnull=True).order_by("name", "id")


def account_search(*, user, text: str, limit: int = SEARCH_RESULTS) -> list[dict]:
    """Accounts the user may see whose name or domain holds `text` (two characters at least), by name, with the
    territory they are in: {id, name, domain, territory}."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    found = (
        account_list(user=user)
        .filter(Q(name__icontains=text) | Q(domain__icontains=text))
        .order_by("name", "id")
        .values("pk", "name", "domain", "territory__name")[:limit]
    )
    return [
        {"id": row["pk"], "name": row["name"], "domain": row["domain"] or "", "territory": row["territory__name"] or ""}
        for row in found
    ]


# --- Owner pickers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerOption:
    """A rep an account of the territory may be given to, with what a manager should know before choosing them."""

    user_id: int
    name: str  # full name (the username only when the user has none)
    owned: int  # accounts of the territory they own
    max_accounts: int | None
    away_from: dt.date | None
    away_until: dt.date | None
    is_away: bool  # away today

    @property
    def at_capacity(self) -> bool:
        return self.max_accounts is not None and self.owned >= self.max_accounts

    @property
    def away_text(self) -> str:
        """ "away until 10 Aug 2026", "away from 3 Aug 2026", "away" (open-ended both ways)."""
        if self.away_until:
            return f"away until {day_text(self.away_until)}"
        if self.away_from:
            return f"away from {day_text(self.away_from)}"
        return "away"

    @property
    def notes(self) -> list[str]:
        notes = [self.away_text] if self.is_away else []
        if self.at_capacity:
            notes.append(f"at capacity: {self.owned:,} of {self.max_accounts:,}")
        return notes

    @property
    def label(self) -> str:
        """The name as a picker lists it: "Dana Reyes", "Dana Reyes (away until 10 Aug)"."""
        return f"{self.name} ({'; '.join(self.notes)})" if self.notes else self.name


def day_text(day: dt.date, *, today: dt.date | None = None) -> str:
    """ "10 Aug" in the current year, "10 Aug 2027" in another."""
    today = today or timezone.localdate()
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def _person(user) -> str:
    return user.get_full_name() or user.username


# What an owner option reads of a membership and its user.
OPTION_READS = (
    "user_id", "territory_id", "max_accounts", "away_from", "away_until", "user__first_name", "user__last_name",
    "user__username",
)  # fmt: skip


def owner_options(*, territory_ids, today: dt.date | None = None) -> dict[int, list[OwnerOption]]:
    """Territory id -> the reps an account there may be given to: its active rep members who are active users, by
    full name, each marked away (today) or at capacity (owned accounts of the territory against their limit). Two
    queries: the members, and one count of the accounts of those with a limit, grouped by territory and owner (`owned`
    is 0 for a member without one: nothing is said of their load)."""
    today = today or timezone.localdate()
    options: dict[int, list[OwnerOption]] = {pk: [] for pk in territory_ids if pk is not None}
    if not options:
        return options
    members = list(
        Membership.objects.filter(
            territory_id__in=sorted(options), is_active=True, role=Membership.Role.REP, user__is_active=True
        )
        .select_related("user")
        .only(*OPTION_READS)
    )
    if not members:
        return options
    # Their accounts are counted only where a limit makes the count matter (at capacity): a territory of a million
    # accounts and no limits costs no count at all.
    limited = [m for m in members if m.max_accounts is not None]
    owned = {
        (row["territory_id"], row["owner_id"]): row["n"]
        for row in Account.objects.filter(
            territory_id__in=sorted({m.territory_id for m in limited}),
            owner_id__in=sorted({m.user_id for m in limited}),
        )
        .order_by()
        .values("territory_id", "owner_id")
        .annotate(n=Count("id"))
    }
    for m in members:
        options[m.territory_id].append(
            OwnerOption(
                user_id=m.user_id,
                name=_person(m.user),
                owned=owned.get((m.territory_id, m.user_id), 0),
                max_accounts=m.max_accounts,
                away_from=m.away_from,
                away_until=m.away_until,
                is_away=away_on(m.away_from, m.away_until, today),
            )
        )
    for found in options.values():
        found.sort(key=lambda o: (o.name.lower(), o.user_id))
    return options


def owner_option(*, territory_id: int | None, user_id: int | None) -> OwnerOption | None:
    """One rep's option in a territory (None when they are not one of its eligible reps)."""
    if territory_id is None or user_id is None:
        return None
    return next((o for o in owner_options(territory_ids=[territory_id])[territory_id] if o.user_id == user_id), None)


# --- Routing, as the assignment runs see it ------------------------------------------------------------------------


def territory_rules(*, account_ids: list[int] | None = None) -> list[TerritoryRule]:
    """Every territory as routing reads it: its rules, named accounts (only those of `account_ids` when given),
    place in the hierarchy, priority and strategy."""
    links = Territory.named_accounts.through.objects.values_list("territory_id", "account_id")
    if account_ids is not None:
        links = links.filter(account_id__in=account_ids)
    named: dict[int, set[int]] = {}
    for territory_id, account_id in links:
        named.setdefault(territory_id, set()).add(account_id)
    return [
        TerritoryRule(
            id=t.pk,
            name=t.name,
            parent_id=t.parent_id,
            priority=t.priority,
            criteria=tuple(criterion_from_dict(c) for c in t.criteria or []),
            named_account_ids=frozenset(named.get(t.pk, ())),
            is_active=t.is_active,
            strategy=t.strategy,
        )
        for t in Territory.objects.all()
    ]


def ownership_problems(*, account: Account | None, values: dict) -> dict[str, str]:
    """Field -> why an edit that sets an account's territory or owner directly would not stand: routing would move
    the account out of the territory given (name it there to keep it), or the owner given is not an active member
    of the account's territory. The same rules as routing runs and reassignment follow. Empty when it stands."""
    if "territory" not in values and "owner" not in values:
        return {}
    territory = values.get("territory", account.territory if account is not None else None)
    owner = values.get("owner", account.owner if account is not None else None)
    problems: dict[str, str] = {}
    if "territory" in values:
        row = {name: getattr(account, name, None) if account is not None else None for name in VALUE_COLUMNS}
        row.update({k: v for k, v in values.items() if k in VALUE_COLUMNS})
        pk = account.pk if account is not None else 0
        routed, why = Matcher(territory_rules(account_ids=[pk])).match(pk, account_values(row))
        if (routed.id if routed else None) != (territory.pk if territory else None):
            where = routed.name if routed else "no territory"
            problems["territory"] = (
                f"Routing places this account in {where} ({why}), and the next assignment run would move it back. "
                + (f"Name it in {territory.name}'s named accounts to keep it there." if territory else "")
            ).strip()
    if owner is not None and "territory" not in problems:
        if territory is None:
            problems["owner"] = "An account in no territory has no owner: place it in a territory first."
        elif not Membership.objects.filter(user=owner, territory=territory, is_active=True).exists():
            problems["owner"] = (
                f"{owner.username} is not an active member of {territory.name}: give the account to one of its "
                "members, or to nobody (routing then picks one)."
            )
    return problems
