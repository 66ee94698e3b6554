"""What must happen when what we know about an account changes: decided here, and nowhere else.

- Its data changed (the account itself, a contact, a signal): its scores are stale, so it goes on the rescore queue
  (`accounts_changed`). Segmentation drains the queue.
- It is new, or changed without being placed in a territory by hand: it must be routed to a territory and an owner,
  so it goes on the routing queue too (`accounts_changed(..., route=True)`). Territories drains that queue.
- One of its opportunities was won, or a won one changed (un-won, closed on another date, deleted): the set of won
  accounts that lookalike scores compare every account with changed, so it goes on the lookalike queue
  (`won_deals_changed`). Segmentation drains it with one refresh of every account's lookalike score.
- Its owner changed (a routing run, a manual reassignment, an edit): its pending handoffs must follow it to the new
  owner, so it goes on the owner-change queue (`owners_changed`). Handoffs drains that queue.

Every writer of accounts, contacts and signals calls this: the services of this app, the importer (CSV, upload page,
API batches), the admin and the data generators. The queues are tables written in the writer's transaction; their
tasks are woken once it commits and drained every minute by beat as well (core/queues.py), so a lost wake-up only
delays the work.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.queues import queue_add, wake_after_commit

from .models import PendingLookalike, PendingOwnerChange, PendingRescore, PendingRoute

# The tasks that drain the queues, by name: segmentation and territories register them (this app never imports them).
RESCORE_TASK = "accounts.changes.rescore_queued"
ROUTE_TASK = "accounts.changes.route_queued"
OWNERS_TASK = "accounts.changes.owners_changed"
LOOKALIKE_TASK = "accounts.changes.lookalikes_queued"


def accounts_changed(account_ids: Iterable[int], *, route: bool = False) -> list[int]:
    """Queue the accounts for rescoring (and routing with `route`) once the caller's transaction commits; returns
    the ids queued."""
    ids = queue_add(PendingRescore, account_ids)
    if not ids:
        return ids
    wake_after_commit(RESCORE_TASK)
    if route:
        queue_add(PendingRoute, ids)
        wake_after_commit(ROUTE_TASK)
    return ids


def accounts_queued_by_statement() -> None:
    """The caller's own SQL statement put accounts on the rescore queue, in its transaction (signal ingestion writes
    a batch and queues its accounts in one statement: `ingest.py`): wake the task once the transaction commits."""
    wake_after_commit(RESCORE_TASK)


def owners_changed(account_ids: Iterable[int]) -> list[int]:
    """Queue accounts whose owner changed, so their pending handoffs follow them once the caller's transaction
    commits; returns the ids queued."""
    ids = queue_add(PendingOwnerChange, account_ids)
    if ids:
        wake_after_commit(OWNERS_TASK)
    return ids


def won_deals_changed(account_ids: Iterable[int]) -> list[int]:
    """Queue accounts whose won opportunities changed, so lookalike scores are refreshed against the new set of won
    accounts once the caller's transaction commits; returns the ids queued."""
    ids = queue_add(PendingLookalike, account_ids)
    if ids:
        wake_after_commit(LOOKALIKE_TASK)
    return ids


def won_state(opportunity) -> tuple:
    """What of an opportunity the set of won accounts depends on: compare it before and after a write."""
    if opportunity is None:
        return (None, False, None)
    return (opportunity.account_id, bool(opportunity.is_won), opportunity.closed_on)
