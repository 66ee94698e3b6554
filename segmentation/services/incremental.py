"""Incremental rescoring: a changed account is rescored soon after its change commits (the rescore queue of
accounts/changes.py), and a territory whose Tier 1 capacity changed is checked again (the capacity queue)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import partial

from django.utils import timezone

from accounts.models import Account, PendingRescore
from core.queues import queue_add, queue_claim
from territories.models import PendingCapacity

from ..engine import Plan, Selection, score_and_store
from ..models import AccountScore
from ..selectors import active_model
from .qualify import after_scoring

PENDING_BATCH = 1_000


def rescore_pending(*, limit: int = PENDING_BATCH, as_of: dt.datetime | None = None) -> int:
    """Rescore the queued accounts with the active version; returns how many were scored."""
    model = active_model()
    scored = 0
    plan = Plan.of(model) if model else None
    while ids := queue_claim(PendingRescore, limit):
        if plan is None:
            continue  # nothing to score with: the next publish scores everyone
        moment = as_of or timezone.now()
        try:
            score_and_store(
                plan, Selection(ids=tuple(ids)), moment, then=partial(after_scoring, plan.model, moment, ids)
            )
        except Exception:
            queue_add(PendingRescore, ids)  # back on the queue for the next drain
            raise
        scored += len(ids)
    return scored


def capacity_refresh(territory_ids: Iterable[int], *, as_of: dt.datetime | None = None) -> list[int]:
    """Hold or release the territories' Tier 1 overflow now (their members or capacities changed), raising the MQAs
    a release may bring; returns the new MQAs' ids."""
    model = active_model()
    if model is None:
        return []
    return after_scoring(model, as_of or timezone.now(), territory_ids=list(territory_ids))


def capacity_queued(*, limit: int = PENDING_BATCH) -> int:
    """Re-check the Tier 1 capacity of the territories on the capacity queue; returns how many were checked."""
    checked = 0
    while ids := queue_claim(PendingCapacity, limit):
        try:
            capacity_refresh(ids)
        except Exception:
            queue_add(PendingCapacity, ids)
            raise
        checked += len(ids)
    return checked


def account_rescore(account: Account, *, as_of: dt.datetime | None = None) -> AccountScore | None:
    """Score one account now (the account page's "rescore" and the tests)."""
    model = active_model()
    if model is None:
        return None
    moment = as_of or timezone.now()
    score_and_store(
        Plan.of(model), Selection(ids=(account.pk,)), moment, then=partial(after_scoring, model, moment, [account.pk])
    )
    return AccountScore.objects.filter(account=account).first()
