"""The one question the access rule asks about territories: which territories' accounts does a user cover?

Who may see an account (SPEC section 1) is decided in accounts/selectors.py from the user's roles and the answer
to this question. The answer depends on memberships and the territory hierarchy, which live in territories, an app
that accounts may not import (imports run one way: docs/architecture.md). So territories answers it here when the
apps are ready (territories/apps.py), and accounts asks through `covered_territory_ids`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

_coverage: Callable[..., set[int]] | None = None


def coverage_rule_set(rule: Callable[..., set[int]]) -> None:
    """Install the rule: rule(user) -> the ids of the territories whose accounts `user` sees as manager or member."""
    global _coverage
    _coverage = rule


def covered_territory_ids(user) -> set[int]:
    if _coverage is None:
        raise ImproperlyConfigured("No territory coverage rule: the territories app must be installed.")
    return _coverage(user)


# --- What a page looks up of its reader, once ---------------------------------------------------------------------

_REMEMBERING = "_access_remembering"


def remember_for_request(user) -> None:
    """From now on, `remembered` keeps its answers about `user` on this object: only for the request's own user
    object, which lives as long as the request (a page that asks the same question from several parts asks once)."""
    setattr(user, _REMEMBERING, {})


def remembered(user, name: str, compute: Callable[[], T]) -> T:
    """compute(), or its answer for `user` earlier in this request if `remember_for_request(user)` was called."""
    memo = getattr(user, _REMEMBERING, None)
    if memo is None:
        return compute()
    if name not in memo:
        memo[name] = compute()
    return memo[name]
