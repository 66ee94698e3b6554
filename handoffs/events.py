"""Handoffs' domain events (core/events.py), written set-based in the transaction of the change they record:

- handoff.assigned: a handoff got an owner (created for an MQA whose account has one, followed its account to a new
  owner, reassigned by a manager or by the breach action);
- handoff.accepted / handoff.rejected: its owner decided (the rejection's reason and note);
- handoff.breached: the sweep marked it overdue (who let it lapse, and the breach action).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from accounts.events import USER_TABLE, account_data, account_joins
from core.events import Kind, Lit, case_sql, iso_sql, name_sql, record_for_ids
from core.tiers import LABELS

from .models import Handoff, SlaPolicy

HANDOFF_TABLE = Handoff._meta.db_table
POLICY_TABLE = SlaPolicy._meta.db_table


def handoff_events(
    kind: str,
    handoff_ids: Iterable[int],
    *,
    why: str = "",
    actor_id: int | None = None,
    at: dt.datetime | None = None,
) -> int:
    """An event of `kind` for each of these handoffs, as they stand now in this transaction (`why`: what assigned
    it, in words). Returns how many were written."""
    return record_for_ids(
        kind,
        ids=list(handoff_ids),
        column="h.id",
        at=at or timezone.now(),
        account="h.account_id",
        actor=Lit(actor_id, "bigint") if actor_id is not None else None,
        data={
            **account_data(),
            "handoff_id": "h.id",
            "mqa_id": "h.mqa_id",
            "tier": "h.tier",
            "tier_label": case_sql("h.tier", LABELS),
            "status": "h.status",
            "handoff_owner_id": "h.owner_id",
            "handoff_owner_name": name_sql("ho"),
            "assigned_at": iso_sql("h.assigned_at"),
            "accept_due_at": iso_sql("h.accept_due_at"),
            "decided_at": iso_sql("h.decided_at"),
            "decided_by_id": "h.decided_by_id",
            "decided_by_name": name_sql("hd"),
            "reason": "NULLIF(h.reason, '')",
            "reason_label": case_sql("h.reason", dict(Handoff.Reason.choices)),
            "note": "NULLIF(h.note, '')",
            "breached_at": iso_sql("h.breached_at"),
            "breached_by_id": "h.breached_by_id",
            "breached_by_name": name_sql("hb"),
            "breach_action": f"CASE WHEN h.breached_at IS NULL THEN NULL ELSE COALESCE(p.breach_action, "
            f"'{SlaPolicy.BreachAction.NOTIFY_MANAGER.value}') END",
            "why": Lit(why or None),
        },
        source=(
            f"FROM {HANDOFF_TABLE} h {account_joins('h.account_id')} "
            f"LEFT JOIN {USER_TABLE} ho ON ho.id = h.owner_id LEFT JOIN {USER_TABLE} hd ON hd.id = h.decided_by_id "
            f"LEFT JOIN {USER_TABLE} hb ON hb.id = h.breached_by_id LEFT JOIN {POLICY_TABLE} p ON p.tier = h.tier "
            "WHERE TRUE"
        ),
    )


def assigned(handoff_ids: Iterable[int], *, why: str, actor_id: int | None = None, at=None) -> int:
    """handoff.assigned for the handoffs among these that have an owner."""
    ids = list(Handoff.objects.filter(pk__in=list(handoff_ids), owner__isnull=False).values_list("pk", flat=True))
    return handoff_events(Kind.HANDOFF_ASSIGNED, ids, why=why, actor_id=actor_id, at=at)
