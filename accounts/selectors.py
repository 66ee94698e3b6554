"""What a user may see (SPEC section 1), in one place.

Every page, API, export and admin list reads accounts and what hangs off them
through these selectors, so a rule is decided once:
- admin (or superuser): every account;
- manager: accounts in territories they manage, and the territories below;
- rep: accounts they own, or in a territory they are an active member of;
- no role, inactive or anonymous: nothing.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from core.roles import is_admin, is_manager, is_rep
from territories.selectors import territory_ids_managed_by, territory_ids_member_of

from .models import Account, Contact, Opportunity, Signal


def account_visibility_q(*, user, prefix: str = "") -> Q | None:
    """A filter selecting the accounts `user` may see, or None when they may see all of them.

    `prefix` points from another model to its account (e.g. "account__").
    """
    if is_admin(user):
        return None
    territory_ids: set[int] = set()
    owned = False
    if is_manager(user):
        territory_ids |= territory_ids_managed_by(user=user)
    if is_rep(user):
        territory_ids |= territory_ids_member_of(user=user)
        owned = True
    q = Q(pk__in=[])
    if territory_ids:
        q |= Q(**{f"{prefix}territory_id__in": sorted(territory_ids)})
    if owned:
        q |= Q(**{f"{prefix}owner_id": user.pk})
    return q


def _scoped(qs: QuerySet, *, user, prefix: str) -> QuerySet:
    q = account_visibility_q(user=user, prefix=prefix)
    return qs if q is None else qs.filter(q)


def account_list(*, user) -> QuerySet[Account]:
    return _scoped(Account.objects.all(), user=user, prefix="")


def contact_list(*, user) -> QuerySet[Contact]:
    return _scoped(Contact.objects.all(), user=user, prefix="account__")


def signal_list(*, user) -> QuerySet[Signal]:
    return _scoped(Signal.objects.all(), user=user, prefix="account__")


def opportunity_list(*, user) -> QuerySet[Opportunity]:
    return _scoped(Opportunity.objects.all(), user=user, prefix="account__")


def access_account(*, user, account_id: int) -> Account:
    """The account if the user may see it; 404 otherwise, so its existence is not revealed."""
    try:
        return account_list(user=user).select_related("owner", "territory", "parent").get(pk=account_id)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account.") from None
