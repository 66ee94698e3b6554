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


def summary_key(name: str, scope: object) -> str:
    """The cache key of the counts `name` of `scope`."""
    return f"counts:{name}:{hashlib.sha256(repr(scope).encode()).hexdigest()[:32]}"


def counted(name: str, scope: object, compute: Callable[[], T]) -> tuple[T, dt.datetime]:
    """(compute(), when it was computed), shared for COUNTS_CACHE_SECONDS under `name` and `scope` (anything whose
    repr names what the counts cover: sorted ids, a user id). Once that has passed, the first reader counts again and
    the others are served the last answer meanwhile (kept up to twice as long for that), so the readers of a busy
    page never all count at once: an admin's pick lists at a million accounts cost most of a second to count."""
    seconds = getattr(settings, "COUNTS_CACHE_SECONDS", 60)
    if seconds <= 0:
        return compute(), timezone.now()
    key = summary_key(name, scope)
    found = cache.get(key)
    if found is not None:
        fresh = timezone.now() - found[1] < dt.timedelta(seconds=seconds)
        # cache.add is atomic: one reader wins the right to count again (for `seconds` at most, should it fail).
        if fresh or not cache.add(f"{key}:renewing", True, timeout=seconds):
            return found
    found = (compute(), timezone.now())
    cache.set(key, found, seconds * 2)
    cache.delete(f"{key}:renewing")
    return found
