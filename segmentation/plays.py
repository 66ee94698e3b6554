"""Plays, one per tier: what the team does with the accounts of a tier (motion, owner, primary KPI).

Read and written here, so the editor, the account page and the Django admin agree.
"""

from __future__ import annotations

from core.tiers import ORDER, SUPPRESS

from .models import Play

# The tiers that have a play, best first; suppressed accounts are worked by no one.
PLAY_TIERS: tuple[str, ...] = tuple(tier for tier in sorted(ORDER, key=ORDER.__getitem__) if tier != SUPPRESS)
EDITABLE_FIELDS = ["name", "motion", "owner_role", "primary_kpi", "description"]


def play_list() -> list[Play]:
    """Every play, best tier first."""
    return sorted(Play.objects.select_related("updated_by"), key=lambda play: ORDER.get(play.tier, len(ORDER)))


def play_for_tier(*, tier: str | None) -> Play | None:
    if not tier:
        return None
    return Play.objects.filter(tier=tier).first()


def play_save(*, play: Play, user) -> Play:
    """Save an edited play (or a tier's first one), recording who changed it."""
    play.updated_by = user
    if play.pk is None:
        play.save()
    else:
        play.save(update_fields=[*EDITABLE_FIELDS, "updated_by", "updated_at"])
    return play
