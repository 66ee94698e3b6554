"""What a user may see (SPEC section 1), in one place.

Every page, API, export and admin list reads accounts and what hangs off them
through these selectors, so a rule is decided once:
- admin (or superuser): every account;
- manager: accounts in territories they manage, and the territories below;
- rep: accounts they own, or in a territory they are an active member of;
- no role, inactive or anonymous: nothing.
Which territories a user manages or belongs to is the territories app's answer (core/access.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from core.access import covered_territory_ids, remember_for_request, remembered
from core.roles import is_admin, is_rep
from core.summaries import counted

from .criteria import ACCOUNT_FIELDS, attributes_named, criteria_errors
from .models import Account, Contact, Opportunity, Signal, TopicSurge
from .topics import topic_key


def account_visibility_q(*, user, prefix: str = "") -> Q | None:
    """A filter selecting the accounts `user` may see, or None when they may see all of them.

    `prefix` points from another model to its account (e.g. "account__"), or to a copy of the account's territory and
    owner (e.g. "score__account_" for score__account_territory_id and score__account_owner_id).
    """
    return _visibility_qs(user=user, prefixes=[prefix])[0]


def coverage_remember(user) -> None:
    """Look up the territories `user` covers once for the rest of this request: a page that reads several lists of
    the same scope (the account list: its rows, its filters' choices) asks once, and so do the parts of a page that
    ask the territories app about the reader (core.access.remember_for_request). Only for the request's own user
    object, which lives as long as the request."""
    remember_for_request(user)
    covered_ids(user)


def covered_ids(user) -> set[int]:
    """The territories whose accounts `user` covers (core.access), as remembered for this request if it was."""
    return set(remembered(user, "account_coverage", lambda: frozenset(covered_territory_ids(user))))


def _visibility_qs(*, user, prefixes: list[str]) -> list[Q | None]:
    """`account_visibility_q` for each prefix, with the user's territories looked up once."""
    if is_admin(user):
        return [None for _ in prefixes]
    territory_ids = sorted(covered_ids(user))
    rep = is_rep(user)
    qs = []
    for prefix in prefixes:
        q = Q(pk__in=[])
        if territory_ids:
            q |= Q(**{f"{prefix}territory_id__in": territory_ids})
        if rep:
            q |= Q(**{f"{prefix}owner_id": user.pk})
        qs.append(q)
    return qs


def _scoped(qs: QuerySet, *, user, prefix: str) -> QuerySet:
    q = account_visibility_q(user=user, prefix=prefix)
    return qs if q is None else qs.filter(q)


def account_list(*, user) -> QuerySet[Account]:
    return _scoped(Account.objects.all(), user=user, prefix="")


def scored_subset(accounts: QuerySet[Account], *, user) -> QuerySet[Account]:
    """The scored accounts among `accounts` (already read through `account_list(user=user)`), with the scope also
    read from the score's copy of the account's territory and owner, as `scored_account_list` does."""
    accounts = accounts.filter(score__isnull=False)
    q = account_visibility_q(user=user, prefix="score__account_")
    return accounts if q is None else accounts.filter(q)


def scored_account_list(*, user) -> QuerySet[Account]:
    """The scored accounts `user` may see: the scope is read from both the account and its score's copy of the
    account's territory and owner (segmentation keeps the copy by triggers). The same accounts as `account_list`
    restricted to scored ones; but a list of them filtered by tier or sorted by score becomes, for a manager or a rep,
    one range of a score index (territory or owner, tier, score) rather than a join of every account in the scope
    (a million accounts: milliseconds instead of a quarter of a second)."""
    accounts = Account.objects.filter(score__isnull=False)
    for q in _visibility_qs(user=user, prefixes=["", "score__account_"]):
        accounts = accounts if q is None else accounts.filter(q)
    return accounts


def scored_count(*, user, tier: str) -> int:
    """How many accounts of `scored_account_list(user=user)` are in `tier`, counted from the scores alone: their copy
    of the account's territory and owner scopes them, so no account is joined (for an admin, a range of the tier
    index; for a manager or a rep, a range per territory or owner), where the list's own count joins every account of
    the tier (a million accounts: a few milliseconds instead of a third of a second). The same number while the copies
    are right (segmentation keeps them by triggers and repairs any drift daily), as the tier tiles count. A tier of an
    admin's million accounts is still a pass over a hundred thousand index entries, so like the tiles the number is
    shared for COUNTS_CACHE_SECONDS by every reader of the same scope (core/summaries.py)."""
    scores = scores_in_tier(user=user, tier=tier)
    return counted(f"scored-{tier}", account_visibility_q(user=user, prefix="account_"), scores.count)[0]


def scores_in_tier(*, user, tier: str) -> QuerySet:
    """The scores of the accounts of `scored_account_list(user=user)` in `tier`, scoped by their copy of the account's
    territory and owner alone (see `scored_count`): one range of a score index, in the index's order (territory or
    owner or tier, then the score), whatever the number of accounts."""
    scores = Account.score.related.related_model.objects.filter(tier=tier)  # the scores, through the relation
    q = account_visibility_q(user=user, prefix="account_")
    return scores if q is None else scores.filter(q)


SCORE_RANGES_MAX = 8  # ranges read apart at most; a reader covering more territories reads their scores as one set


def score_ranges_in_tier(*, user, tier: str) -> list[QuerySet]:
    """`scores_in_tier(user=user, tier=tier)` as the ranges of the score indexes it is made of, each in its index's
    order: one per territory the reader covers and, for a rep, one of the accounts they own (an admin's: the tier's).
    A page in a score order reads the first rows of each range and merges them, where the scope's OR read every score
    of the tier in the scope to sort them (a rep's territory and own accounts: a bitmap of both indexes, then the
    table's rows). A single set when the reader covers more than SCORE_RANGES_MAX territories."""
    scores = scores_in_tier(user=user, tier=tier)
    if is_admin(user):
        return [scores]
    territory_ids = sorted(covered_ids(user))
    if len(territory_ids) > SCORE_RANGES_MAX:
        return [scores]
    ranges = [scores.model.objects.filter(tier=tier, account_territory_id=t) for t in territory_ids]
    if is_rep(user):
        ranges.append(scores.model.objects.filter(tier=tier, account_owner_id=user.pk))
    return ranges


def one_tier_scores(*, user, tier: str) -> dict:
    """What a list of one `tier` in a score order reads its pages from (accounts.tables.ScoreIndexPages), for the page
    and the API alike: the scores of `user`'s scope in that tier, and the index ranges they are made of."""
    return {"scores": scores_in_tier(user=user, tier=tier), "ranges": score_ranges_in_tier(user=user, tier=tier)}


PICK_LIST_FIELDS = ("industry", "country")
PICK_LIST_LIMIT = 500  # values offered at most: a pick list longer than this is no help


def account_values_present(*, user, field: str) -> list[str]:
    """The distinct non-blank values of `field` (industry or country) among the accounts `user` may see, sorted, for
    the account list's pick lists. A DISTINCT over every account in a scope is a pass over the rows (a million for an
    admin), so each answer is shared for COUNTS_CACHE_SECONDS (core.summaries), keyed by the scope."""
    if field not in PICK_LIST_FIELDS:
        raise ValueError(f"No pick list for {field!r}.")
    accounts = Account.objects.all()
    if is_admin(user):
        scope: object = "all"
    else:
        territory_ids, rep = sorted(covered_ids(user)), is_rep(user)
        scope = (territory_ids, user.pk if rep else None)
        # The same rule as account_visibility_q, from the ids read once for the cache key.
        q = Q(territory_id__in=territory_ids) | (Q(owner_id=user.pk) if rep else Q(pk__in=[]))
        accounts = accounts.filter(q)

    def compute() -> list[str]:
        values = (
            accounts.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct()[:PICK_LIST_LIMIT]
        )
        return sorted(set(values), key=lambda v: (v.casefold(), v))

    return counted(f"account-{field}-values", scope, compute)[0]


def contact_list(*, user) -> QuerySet[Contact]:
    return _scoped(Contact.objects.all(), user=user, prefix="account__")


def signal_list(*, user) -> QuerySet[Signal]:
    return _scoped(Signal.objects.all(), user=user, prefix="account__")


def opportunity_list(*, user) -> QuerySet[Opportunity]:
    return _scoped(Opportunity.objects.all(), user=user, prefix="account__")


def surging_topics_present(*, user) -> list[tuple[str, str]]:
    """(topic, label) of the topics surging on at least one account `user` may see, by label: the account list's
    "Surging topic" pick list. Read from the surging rows' own index (topic, account); shared for
    COUNTS_CACHE_SECONDS like the other pick lists (the topics change nightly)."""
    surges = TopicSurge.objects.filter(surging=True)
    if is_admin(user):
        scope: object = "all"
    else:
        territory_ids, rep = sorted(covered_ids(user)), is_rep(user)
        scope = (territory_ids, user.pk if rep else None)
        q = Q(account__territory_id__in=territory_ids) | (Q(account__owner_id=user.pk) if rep else Q(pk__in=[]))
        surges = surges.filter(q)

    def compute() -> list[tuple[str, str]]:
        labels: dict[str, str] = {}
        for topic, label in surges.order_by().values_list("topic", "label").distinct()[: PICK_LIST_LIMIT * 4]:
            if topic not in labels or label < labels[topic]:
                labels[topic] = label
        return sorted(labels.items(), key=lambda item: (item[1].casefold(), item[0]))[:PICK_LIST_LIMIT]

    return list(counted("account-surging-topics", scope, compute)[0])


def account_topic_surges(*, account: Account) -> list[TopicSurge]:
    """The account's topics, surging ones first, then by how far above their usual they stand."""
    return list(TopicSurge.objects.filter(account=account).order_by("-surging", "-z", "-recent_count", "topic"))


def surging_filter_q(topic: str, *, prefix: str = "") -> Q:
    """Accounts on which `topic` (any case and surrounding spaces) surges now."""
    surging = TopicSurge.objects.filter(surging=True, topic=topic_key(topic))
    return Q(**{f"{prefix}pk__in": surging.values("account_id")})


def visible_parent(*, user, account: Account) -> Account | None:
    """The account's parent if the user may see it too; None otherwise, as if it had none (its existence is not
    revealed)."""
    if account.parent_id is None:
        return None
    return account_list(user=user).filter(pk=account.parent_id).only("pk", "name").first()


def access_account(*, user, account_id: int, joined: tuple[str, ...] = (), subsidiaries_known: bool = False) -> Account:
    """The account if the user may see it; 404 otherwise, so its existence is not revealed. `joined`: more of its
    relations read in the same query. `subsidiaries_known`: whether any account names it as parent is read with it
    too (`has_subsidiaries`), so the parts of a page about its group ask nothing when it has none (most accounts)."""
    accounts = account_list(user=user).select_related("owner", "territory", *joined)
    if subsidiaries_known:
        accounts = accounts.annotate(has_subsidiaries=Exists(Account.objects.filter(parent_id=OuterRef("pk"))))
    try:
        return accounts.get(pk=account_id)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise Http404("No such account.") from None


# --- What criteria may read ------------------------------------------------------------------------------------


def attribute_keys(names: Iterable[str] | None = None) -> set[str]:
    """The keys found in accounts' `attributes`: names criteria may use besides the account's fields. With `names`,
    only which of those are found (one look-up each, which stops at the first account that has it, rather than a
    scan of every account's keys)."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        if names is not None and connection.vendor == "postgresql":
            found = set()
            for name in sorted(set(names)):
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE attributes ? %s)", [name])  # noqa: S608  # nosec B608  # the table name is the model's; the key is a parameter
                if cursor.fetchone()[0]:
                    found.add(name)
            return found
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT DISTINCT jsonb_object_keys(attributes) FROM {table} WHERE attributes <> '{{}}'")  # noqa: S608  # nosec B608  # the table name is the model's; no input in the SQL
        else:
            cursor.execute(f"SELECT DISTINCT j.key FROM {table}, json_each({table}.attributes) j")  # noqa: S608  # nosec B608  # the table name is the model's; no input in the SQL
        keys = {row[0] for row in cursor.fetchall()}
    return keys if names is None else keys & set(names)


def known_attributes() -> list[str]:
    """Every name a criterion may use: the account fields and the keys accounts hold."""
    return sorted(set(ACCOUNT_FIELDS) | attribute_keys())


def criteria_problems(items, *, with_points: bool = True) -> dict[int, dict]:
    """`criteria_errors` of items, with the attribute keys they name looked up among the accounts."""
    return criteria_errors(items, keys=attribute_keys(attributes_named(items)), with_points=with_points)
