"""Counts over a whole scope (accounts per territory, scores per tier) cost a pass over every row: for an admin at a
million accounts, 150 ms or more per count, on every page load. The pages that show them (home, territories, tier
tiles) share each answer for COUNTS_CACHE_SECONDS (default 60) through the cache, which every web process shares
(Redis in production), and say when it was counted. Lists, queues and anything a user acts on are counted live."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")


def counted(name: str, scope: object, compute: Callable[[], T]) -> tuple[T, dt.datetime]:
    """(compute(), when it was computed), shared for COUNTS_CACHE_SECONDS under `name` and `scope` (anything whose
    repr names what the counts cover: sorted ids, a user id)."""
    seconds = getattr(settings, "COUNTS_CACHE_SECONDS", 60)
    if seconds <= 0:
        return compute(), timezone.now()
    key = f"counts:{name}:{hashlib.sha256(repr(scope).encode()).hexdigest()[:32]}"
    found = cache.get(key)
    if found is not None:
        return found
    found = (compute(), timezone.now())
    cache.set(key, found, seconds)
    return found
