"""The one question the access rule asks about territories: which territories' accounts does a user cover?

Who may see an account (SPEC section 1) is decided in accounts/selectors.py from the user's roles and the answer
to this question. The answer depends on memberships and the territory hierarchy, which live in territories, an app
that accounts may not import (imports run one way: docs/architecture.md). So territories answers it here when the
apps are ready (territories/apps.py), and accounts asks through `covered_territory_ids`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

_coverage: Callable[..., set[int]] | None = None


def coverage_rule_set(rule: Callable[..., set[int]]) -> None:
    """Install the rule: rule(user) -> the ids of the territories whose accounts `user` sees as manager or member."""
    global _coverage
    _coverage = rule


def covered_territory_ids(user) -> set[int]:
    if _coverage is None:
        raise ImproperlyConfigured("No territory coverage rule: the territories app must be installed.")
    return _coverage(user)
