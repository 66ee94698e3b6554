"""Segmentation's domain events (core/events.py), written in the transaction of the change they record:

- tier.changed: an account moved from one tier to another (a rescore, the Tier 1 capacity pass, a rejection or a
  breach sending it to Recycle, the Recycle hold). A first placement is not a move: no event. Written set-based
  from the TierChange rows just stored, so every event names its TierChange (`tier_change_id`).
- surge.started: an account's signal surge begins (it was not surging, and now is: `surge_until` set where it was
  unset or past).
- mqa.raised: the MQA pass raised an MQA.
- model.published: a scoring model version was published (or an archived one restored): product-wide, no account.
"""

from __future__ import annotations

import datetime as dt

from accounts.events import account_data, account_joins
from core.events import (
    Kind,
    Lit,
    case_sql,
    insert_sql,
    iso,
    iso_sql,
    person_name,
    record,
    record_for_ids,
    record_select,
    timestamp_param,
)
from core.models import Event
from core.tiers import LABELS

from .models import MQA, ScoringModel, TierChange
from .tiers import PLACED

CHANGE_TABLE = TierChange._meta.db_table
MODEL_TABLE = ScoringModel._meta.db_table
MQA_TABLE = MQA._meta.db_table


def tier_label_sql(expr: str) -> str:
    """SQL for the tier's name as pages show it ("Tier 1")."""
    return case_sql(expr, LABELS)


def _tier_data() -> dict[str, str]:
    return {
        **account_data(),
        "from_tier": "tc.from_tier",
        "from_tier_label": tier_label_sql("tc.from_tier"),
        "to_tier": "tc.to_tier",
        "to_tier_label": tier_label_sql("tc.to_tier"),
        "reason": "tc.reason",
        "fit": "tc.fit",
        "signal": "tc.signal",
        "unified": "tc.unified",
        "model_version": "m.version",
        "tier_change_id": "tc.id",
    }


def _tier_source(where: str) -> str:
    return (
        f"FROM {CHANGE_TABLE} tc {account_joins('tc.account_id')} JOIN {MODEL_TABLE} m ON m.id = tc.model_id "
        f"WHERE tc.from_tier <> '{PLACED}' AND tc.from_tier <> tc.to_tier AND {where}"
    )


def tier_changes_recorded(change_ids: list[int]) -> int:
    """A tier.changed event for each of these TierChange rows that is a move (not a first placement)."""
    return record_for_ids(
        Kind.TIER_CHANGED, ids=change_ids, column="tc.id", at="tc.at", account="tc.account_id",
        data=_tier_data(), source=_tier_source("TRUE"),
    )  # fmt: skip


def tier_changes_recorded_after(*, after_id: int, model_id: int, at: dt.datetime, where: str, params: list) -> int:
    """A tier.changed event for each move the SQL engine just copied into TierChange: the rows after `after_id` of
    this model at this moment among the slice's accounts (`where` on tc.account_id). One INSERT ... SELECT."""
    at_sql, at_param = timestamp_param(at)
    return record_select(
        Kind.TIER_CHANGED,
        at="tc.at",
        account="tc.account_id",
        data=_tier_data(),
        source=_tier_source(f"tc.id > %s AND tc.model_id = %s AND tc.at = {at_sql} AND {where}"),
        params=[after_id, model_id, at_param, *params],
    )


def _unsequenced_tier_events(change: TierChange):
    """The event of this move while no reader can have seen it (by the account first: its index)."""
    return Event.objects.filter(
        account_id=change.account_id, seq__isnull=True, kind=Kind.TIER_CHANGED, data__tier_change_id=change.pk
    )


def tier_change_corrected(
    *,
    change: TierChange,
    shown_tier: str,
    final_tier: str,
    reason: str,
    scores: tuple[float, float, float],
    rewritten: bool,
) -> None:
    """A move written earlier at the same moment (`change`, as it was) was taken back (deleted) or redirected
    (`rewritten`) by the capacity pass or the Recycle hold. Its event goes with it while no reader can have seen it
    (not yet sequenced), and a rewritten move's event is written again from the row; else the feed showed the account
    in `shown_tier`, and a new event says it went from there to `final_tier`."""
    if _unsequenced_tier_events(change).delete()[0]:
        if rewritten:
            tier_changes_recorded([change.pk])
        return
    if change.from_tier == PLACED or shown_tier == final_tier:
        return  # a first placement: the feed never showed it
    tier_moved(
        account_id=change.account_id, model_id=change.model_id, from_tier=shown_tier, to_tier=final_tier,
        reason=reason, scores=scores, at=change.at,
    )  # fmt: skip


def tier_moved(
    *, account_id: int, model_id: int, from_tier: str, to_tier: str, reason: str, scores, at: dt.datetime
) -> int:
    """A tier.changed event for a move recorded in no TierChange row of its own (a correction, see above)."""
    fit, signal, unified = scores
    return record_select(
        Kind.TIER_CHANGED,
        at=at,
        account="a.id",
        data={
            **account_data(),
            "from_tier": Lit(from_tier),
            "from_tier_label": Lit(LABELS.get(from_tier, from_tier)),
            "to_tier": Lit(to_tier),
            "to_tier_label": Lit(LABELS.get(to_tier, to_tier)),
            "reason": Lit(reason),
            "fit": Lit(fit, "float"),
            "signal": Lit(signal, "float"),
            "unified": Lit(unified, "float"),
            "model_version": "m.version",
            "tier_change_id": "NULL",
        },
        source=f"{_ONE_ACCOUNT} JOIN {MODEL_TABLE} m ON m.id = CAST(%s AS BIGINT)",
        params=[account_id, model_id],
    )


# One account by id (a parameter), with what account_data reads.
_ONE_ACCOUNT = f"FROM (SELECT CAST(%s AS BIGINT) AS id) x {account_joins('x.id')}"


def surges_started(rows: list[tuple[int, dt.datetime, float, str]], *, model: ScoringModel, at: dt.datetime) -> int:
    """A surge.started event for each (account id, surging until, signal score, tier): the Python engine's."""
    written = 0
    for account_id, until, signal, tier in rows:
        written += record_select(
            Kind.SURGE_STARTED,
            at=at,
            account="a.id",
            data={
                **account_data(),
                "signal": Lit(signal, "float"),
                "surge_until": Lit(iso(until)),
                "tier": Lit(tier),
                "tier_label": Lit(LABELS.get(tier, tier)),
                "model_version": Lit(model.version, "bigint"),
            },
            source=_ONE_ACCOUNT,
            params=[account_id],
        )
    return written


def mqas_raised(mqa_ids: list[int]) -> int:
    """An mqa.raised event for each of these MQAs (just inserted by the MQA pass)."""
    return record_for_ids(
        Kind.MQA_RAISED,
        ids=mqa_ids,
        column="q.id",
        at="q.qualified_at",
        account="q.account_id",
        data={
            **account_data(),
            "mqa_id": "q.id",
            "tier": "q.tier",
            "tier_label": tier_label_sql("q.tier"),
            "fit": "q.fit",
            "signal": "q.signal",
            "coverage": "q.coverage",
            "unified": "q.unified",
            "qualified_at": iso_sql("q.qualified_at"),
            "model_version": "m.version",
        },
        source=f"FROM {MQA_TABLE} q {account_joins('q.account_id')} JOIN {MODEL_TABLE} m ON m.id = q.model_id "
        "WHERE TRUE",
    )


def model_published(*, model: ScoringModel, user, restored: bool = False) -> Event:
    """A model.published event: the version now scoring every account (product-wide: no account)."""
    return record(
        Kind.MODEL_PUBLISHED,
        actor_id=getattr(user, "pk", None),
        at=model.restored_at if restored and model.restored_at else model.published_at,
        data={
            "model_id": model.pk,
            "model_version": model.version,
            "model_name": model.name,
            "published_at": iso(model.published_at),
            "published_by_id": getattr(user, "pk", None),
            "published_by_name": person_name(user),
            "restored": restored,
            "mqa_tiers": list(model.mqa_tiers or []),
        },
    )


def surges_insert_sql(
    *,
    model: ScoringModel,
    at: dt.datetime,
    rows_sql: str,
    rows_params: list,
    accounts_where: tuple[str, list],
) -> tuple[str, list]:
    """The INSERT of a surge.started event for each row of `rows_sql` (account_id, signal, surge_until, tier): the
    SQL engine runs it inside its store statement, from the rows it just wrote. `accounts_where` (SQL on the account
    `a`, and its parameters) bounds the accounts read to the statement's own (a slice), so the join reads a range of
    them rather than every account."""
    return insert_sql(
        Kind.SURGE_STARTED,
        at=at,
        account="s.account_id",
        data={
            **account_data(),
            "signal": "s.signal",
            "surge_until": iso_sql("s.surge_until"),
            "tier": "s.tier",
            "tier_label": tier_label_sql("s.tier"),
            "model_version": Lit(model.version, "bigint"),
        },
        source=f"FROM ({rows_sql}) s {account_joins('s.account_id')} WHERE {accounts_where[0]}",
        params=[*rows_params, *accounts_where[1]],
    )
