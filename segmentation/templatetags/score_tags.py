"""What the account page shows of an account's score: the score explained, the flags that hold its tier, its play,
its tier history and MQAs, and what each of its signals adds. The page (accounts) loads these tags; the account
view itself knows nothing of scoring."""

from __future__ import annotations

import datetime as dt

from django import template

from accounts.tables import loaded_or

from ..definition import persona_label, signal_kind_label
from ..explain import explain, signal_contributions
from ..models import AccountScore
from ..plays import play_for_tier
from ..rollups import account_group
from ..selectors import account_lookalike, account_mqas, account_tier_changes

register = template.Library()

TIMELINE_ROWS = 50
# Why a tier is held above a worse candidate, by flag; both show as one "Held in tier" badge.
HELD_REASONS = {
    "hysteresis": "its scores are still above the tier's exit thresholds",
    "min_days": "it has been in the tier for less than the minimum time",
}


def flag_badges(score: AccountScore | None) -> list[dict]:
    """Badges for the rules that hold the account's tier beyond its thresholds, in words."""
    flags = set(score.flags or []) if score else set()
    badges = []
    if "surge" in flags:
        until = f" until {score.surge_until:%Y-%m-%d}" if score.surge_until else ""
        badges.append(
            {
                "text": f"Surge{until}",
                "css": "text-bg-warning",
                "title": "Signals jumped: placed one tier above its candidate while the surge lasts.",
            }
        )
    if "capacity" in flags:
        badges.append(
            {
                "text": "Held at Tier 2: territory Tier 1 capacity full",
                "css": "text-bg-info",
                "title": "Its territory's Tier 1 places are taken by higher-scoring accounts.",
            }
        )
    held = [why for flag, why in HELD_REASONS.items() if flag in flags]
    if held:
        badges.append(
            {"text": "Held in tier", "css": "text-bg-secondary", "title": "Kept in its tier: " + "; ".join(held) + "."}
        )
    return badges


@register.simple_tag
def account_scoring(account, latest_signals=None, signal_count=None) -> dict:
    """The account's score (None when not scored) explained, with its flags, play, latest tier moves and MQAs.
    A fixed number of queries, whatever the account's history. `latest_signals`, newest first, and `signal_count`:
    the signals the page read already and how many the account has; when they hold every signal of the score's
    look-back window, the explanation is worked out from them instead of reading the window again."""
    score = loaded_or(
        account, "score", lambda: AccountScore.objects.select_related("model__icp").filter(account=account).first()
    )
    tier_changes, more_tier_changes = account_tier_changes(account=account, limit=TIMELINE_ROWS)
    mqas, more_mqas = account_mqas(account=account, limit=TIMELINE_ROWS)
    return {
        "score": score,
        "explanation": explain(score, signals=_window_read(score, latest_signals, signal_count)) if score else None,
        "flag_badges": flag_badges(score),
        "play": play_for_tier(tier=score.tier) if score else None,
        "tier_changes": tier_changes,
        "more_tier_changes": more_tier_changes,
        "mqas": mqas,
        "more_mqas": more_mqas,
        "timeline_rows": TIMELINE_ROWS,
    }


def _window_read(score, latest_signals, signal_count) -> list[tuple] | None:
    """The (kind, occurred_at, contact id) of `latest_signals` (newest first) if they hold every signal of the score's
    look-back window: all of the account's, or reaching back past the window's start. None otherwise."""
    if latest_signals is None or signal_count is None:
        return None
    latest = list(latest_signals)
    complete = signal_count <= len(latest)
    if not complete and latest:
        complete = latest[-1].occurred_at < score.as_of - dt.timedelta(days=score.model.lookback_days)
    return [(s.kind, s.occurred_at, s.contact_id) for s in latest] if complete else None


@register.simple_tag
def account_group_rollup(user, account, page=1) -> dict | None:
    """A parent account's group (itself and its subsidiaries): its own score beside the group's, by the model's group
    rule, and a page of the subsidiaries `user` may see with their tiers; None when it has no subsidiaries."""
    return account_group(user=user, account=account, page=page or 1)


@register.simple_tag
def lookalike_reasons(account, user) -> dict | None:
    """The account's lookalike score and why, naming only the won accounts the reader may see."""
    return account_lookalike(account=account, user=user)


@register.simple_tag
def signal_points(scoring: dict, signals) -> list[dict]:
    """[{signal, points}]: each signal with what it adds as of the stored score, so the points add up to the numbers
    shown beside them (None when the account is not scored)."""
    score = scoring["score"]
    if score is None:
        return [{"signal": signal, "points": None} for signal in signals]
    return signal_contributions(score, signals, score.as_of)


@register.filter
def signal_kind(kind: str) -> str:
    """A signal's kind in words: "Web visit" for web_visit."""
    return signal_kind_label(kind)


@register.filter
def persona(name: str) -> str:
    """A persona in words: "Economic buyer" for economic_buyer."""
    return persona_label(name)
