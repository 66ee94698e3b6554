"""A parent account's group: the parent and its subsidiaries (its direct children, `Account.parent`), scored by the
group rule of the scoring model, from the scores already stored.

- "Highest score in the group" (max): the best unified score among the parent and its subsidiaries.
- "Sum of the group's signals" (sum_signals): the group's signal score from the signal points of the parent and its
  subsidiaries added up, capped at 100 as the model caps signal, blended with the parent's fit and buying group by
  the model's weights:
      group signal = min(100, sum of the members' signal scores)
      group score  = w_fit * parent fit + w_signal * group signal + w_coverage * 100 * parent coverage
  An account's signal score is 100 * its signal points / full_signal_points, so the sum of the members' signal scores
  is 100 * the summed points / full_signal_points: the same number, read from one aggregate of the stored scores
  rather than from every signal of the group. A member at 100 (whose points may exceed the full points) puts the
  group at 100 anyway. Stored signals are rounded to 0.1, so the sum is within 0.05 per member of the exact one.

Both are computed when a page or the API asks, from the stored scores: one aggregate over the group's rows (the
accounts by parent, through the parent's index), so a group score is never stale and no rescore pays for it.

The group score describes the whole group (the same number for every reader of the parent), but the subsidiaries
listed by name are only those the reader may see; the others are counted ("and N more outside your territories").
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Q, Sum

from accounts.models import Account
from accounts.selectors import account_list
from core.tiers import LABELS

from .models import AccountScore, GroupRollup
from .scoring import round1
from .selectors import active_model

CHILDREN_PAGE = 25


def _g(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def group_members_q(account: Account, prefix: str = "account__") -> Q:
    """The parent and its subsidiaries."""
    return Q(**{f"{prefix}pk": account.pk}) | Q(**{f"{prefix}parent_id": account.pk})


def account_group(*, user, account: Account, page: int | str | None = 1, per_page: int = CHILDREN_PAGE) -> dict | None:
    """The group of a parent account as `user` may read it; None when the account has no subsidiaries.

    {rule, rule_label, value (None until a member is scored), own (the parent's unified, or None), sentence,
     children (a page of the subsidiaries the user may see: id, name, tier, tier_label, unified; best first),
     page, children_total, children_visible, outside_scope (subsidiaries the user may not see), scored (members with a
     score)}
    """
    if getattr(account, "has_subsidiaries", None) is False:  # read with the account (accounts.selectors.access_account)
        return None
    children_total = Account.objects.filter(parent=account).count()
    if not children_total:
        return None
    own = AccountScore.objects.select_related("model").filter(account=account).first()
    model = own.model if own is not None else active_model()
    rule = model.group_rollup if model is not None else GroupRollup.HIGHEST
    stored = AccountScore.objects.filter(group_members_q(account))
    totals = stored.aggregate(best=Max("unified"), signals=Sum("signal"), scored=Count("pk"))
    visible = account_list(user=user).filter(parent=account)
    children_visible = visible.count()
    value, sentence = None, "No account of the group is scored yet."
    if rule == GroupRollup.SUM_SIGNALS:
        if own is None:
            sentence = "The parent is not scored yet: the group's signals are blended with its fit."
        else:
            group_signal = min(100.0, totals["signals"] or 0.0)
            value = round1(
                model.w_fit * own.fit + model.w_signal * group_signal + model.w_coverage * 100.0 * own.coverage
            )
            sentence = (
                f"Group signal {_g(round1(group_signal))}: the signal scores of the {totals['scored']:,} scored "
                f"accounts of the group added up (at most 100). Group score {_g(value)} = {model.w_fit:g} × fit "
                f"{_g(own.fit)} + {model.w_signal:g} × group signal {_g(round1(group_signal))} + {model.w_coverage:g}"
                f" × 100 × coverage {own.coverage:.2f}."
            )
    elif totals["best"] is not None:
        value = totals["best"]
        best = stored.order_by("-unified", "account_id").values_list("account_id", flat=True).first()
        if best == account.pk:
            holder = f"{account.name} itself"
        else:
            named = visible.filter(pk=best).values_list("name", flat=True).first()
            holder = named if named is not None else "a subsidiary outside your territories"
        sentence = f"Highest score in the group: {_g(value)}, held by {holder}."
    rows = visible.order_by(F("score__unified").desc(nulls_last=True), "name", "pk").values(
        "pk", "name", "score__tier", "score__unified"
    )
    paged = Paginator(rows, per_page).get_page(page)
    children = [
        {
            "id": row["pk"],
            "name": row["name"],
            "tier": row["score__tier"],
            "tier_label": LABELS.get(row["score__tier"], "Not scored") if row["score__tier"] else "Not scored",
            "unified": row["score__unified"],
        }
        for row in paged
    ]
    return {
        "rule": rule,
        "rule_label": dict(GroupRollup.choices)[rule],
        "value": value,
        "own": own.unified if own is not None else None,
        "sentence": sentence,
        "children": children,
        "page": paged,
        "children_total": children_total,
        "children_visible": children_visible,
        "outside_scope": children_total - children_visible,
        "scored": totals["scored"],
        "model": model,
    }
