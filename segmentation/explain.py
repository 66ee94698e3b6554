"""A stored score explained in numbers and plain words, from the score's own model version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.criteria import criterion_sentence, with_group
from accounts.models import Contact, Signal
from core.tiers import LABELS

from .definition import persona_label, scoring_params, signal_kind_label, tier_thresholds
from .models import AccountScore
from .scoring import SignalEvent, decayed_points, signal_score
from .tiers import tier_reason


def _g(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def explain(score: AccountScore, *, signals: Iterable[tuple[str, dt.datetime, int | None]] | None = None) -> dict:
    """{fit, signal, coverage, unified, tier, excluded_by, sentences}: every number a person needs to redo the score.

    `signals`: the account's (kind, occurred_at, contact id) triples when the caller loaded them already (see
    `signals_by_account`, one query for a list of scores); signals outside the score's look-back window are ignored.
    """
    model = score.model
    params = scoring_params(model)
    criteria = params.criteria
    groups: dict[str, list[int]] = {}
    for index, criterion in enumerate(criteria):
        groups.setdefault(criterion.group_name, []).append(index)
    matched = set(score.matched or [])
    group_rows, raw, maximum = [], 0.0, 0.0
    for name, members in groups.items():
        best = next((i for i in members if i in matched), None)
        points = criteria[best].points if best is not None else 0.0
        top = max(0.0, max(criteria[i].points for i in members))
        raw += points
        maximum += top
        group_rows.append(
            {
                "group": name,
                "matched": criterion_sentence(criteria[best].attribute, criteria[best].operator, criteria[best].value)
                if best is not None
                else None,
                "points": points,
                "max_points": top,
            }
        )
    # The signal part from the account's signals as of the score's moment: the same numbers the score came from.
    since = score.as_of - dt.timedelta(days=params.lookback_days)
    if signals is None:
        signals = Signal.objects.filter(
            account_id=score.account_id, occurred_at__lte=score.as_of, occurred_at__gte=since
        ).values_list("kind", "occurred_at", "contact_id")
    events = [
        SignalEvent(kind, occurred_at, contact=contact)
        for kind, occurred_at, contact in signals
        if since <= occurred_at <= score.as_of
    ]
    _, detail = signal_score(
        params.signal_rules, events, score.as_of, params.lookback_days, params.full_signal_points, params.contact_cap
    )
    capped_contacts = _capped_contacts(detail["contacts"])
    caps = {r.kind: r.max_points for r in params.signal_rules}
    kinds = sorted(
        (
            {
                "kind": kind,
                "label": signal_kind_label(kind),
                "signals": k["count"],
                "decayed": k["decayed"],
                "cap": caps[kind],
                "points": k["points"],
            }
            for kind, k in detail["kinds"].items()
        ),
        key=lambda k: -k["points"],
    )
    signal_raw = detail["raw"]
    required = list(params.required_personas)
    engaged = list(score.personas or [])
    thresholds = tier_thresholds(model)
    excluded = [
        criterion_sentence(params.exclusions[i].attribute, params.exclusions[i].operator, params.exclusions[i].value)
        for i in score.excluded or []
        if i < len(params.exclusions)
    ]
    reason = tier_reason(
        thresholds,
        fit=score.fit,
        unified=score.unified,
        tier=score.tier,
        flags=score.flags or (),
        surge_until=score.surge_until,
    )
    w = {"fit": params.w_fit, "signal": params.w_signal, "coverage": params.w_coverage}
    sentences = [
        f"Fit {_g(score.fit)}: {_g(raw)} of {_g(maximum)} possible points"
        + (
            ": "
            + "; ".join(
                f"{with_group(g['group'], g['matched'])} ({g['points']:+g})" for g in group_rows if g["matched"]
            )
            if matched
            else "; no criterion matched"
        )
        + ".",
        f"Signal {_g(score.signal)}: {_g(round(signal_raw, 1))} of {_g(params.full_signal_points)} points"
        + (
            ": "
            + "; ".join(
                f"{k['label']} ×{k['signals']} = {k['decayed']:.1f}"
                + (f", capped at {_g(k['cap'])}" if k["decayed"] > k["cap"] else "")
                for k in kinds
            )
            if kinds
            else " (no scored signal in the last " + f"{model.lookback_days} days)"
        )
        + ".",
        *(
            [
                "Signals from "
                + "; from ".join(
                    f"{c['name']} capped at {_g(c['points'])} points (had {_g(round(c['decayed'], 1))})"
                    for c in capped_contacts
                )
                + "."
            ]
            if capped_contacts
            else []
        ),
        f"Buying group: {len(engaged)} of {len(required)} required personas engaged in the last "
        f"{model.engagement_window_days} days"
        + (f" ({', '.join(persona_label(p) for p in engaged)})" if engaged else "")
        + ".",
        f"Unified {_g(score.unified)} = {w['fit']:g} × fit + {w['signal']:g} × signal"
        f" + {w['coverage']:g} × 100 × coverage.",
        reason,
    ]
    if excluded:
        sentences.insert(0, "Excluded: " + "; ".join(excluded) + ".")
    return {
        "model": {"id": model.pk, "name": model.name, "version": model.version},
        "as_of": score.as_of,
        "fit": {"value": score.fit, "raw": raw, "max": maximum, "groups": group_rows},
        "signal": {
            "value": score.signal,
            "raw": signal_raw,
            "full_points": params.full_signal_points,
            "kinds": kinds,
            "contact_cap": params.contact_cap,
            "capped_contacts": capped_contacts,
        },
        "coverage": {
            "value": score.coverage,
            "required": required,
            "engaged": engaged,
            "missing": [p for p in required if p not in engaged],
        },
        "unified": {"value": score.unified, "weights": w},
        "tier": {
            "value": score.tier,
            "label": LABELS.get(score.tier, score.tier),
            "reason": reason,
            "since": score.tier_since,
            "surge_until": score.surge_until,
            "flags": list(score.flags or ()),
        },
        "excluded_by": excluded,
        "sentences": sentences,
    }


def _capped_contacts(capped: dict) -> list[dict]:
    """[{id, name, decayed, points}]: the contacts whose signals the per-contact cap cut, the most cut first."""
    if not capped:
        return []
    names = dict(Contact.objects.filter(pk__in=list(capped)).values_list("pk", "name"))
    rows = [
        {"id": pk, "name": names.get(pk) or f"Contact {pk}", "decayed": c["decayed"], "points": c["points"]}
        for pk, c in capped.items()
    ]
    return sorted(rows, key=lambda c: (-c["decayed"], c["name"]))


def signal_contributions(score: AccountScore, signals, now: dt.datetime) -> list[dict]:
    """Each signal with the points it adds now (before its kind's cap), newest first."""
    params = scoring_params(score.model)
    rules = {r.kind: r for r in params.signal_rules}
    rows = []
    for signal in signals:
        rule = rules.get(signal.kind)
        points = decayed_points(rule, signal.occurred_at, now, params.lookback_days) if rule else 0.0
        rows.append({"signal": signal, "points": points, "scored_kind": rule is not None})
    return rows


def signals_by_account(scores: Iterable[AccountScore]) -> dict[int, list[tuple[str, dt.datetime, int | None]]]:
    """Each scored account's (kind, occurred_at, contact id) signals inside its score's look-back window, in one
    query, for `explain(score, signals=...)` over a list of scores."""
    windows = {s.account_id: (s.as_of - dt.timedelta(days=s.model.lookback_days), s.as_of) for s in scores}
    found: dict[int, list[tuple[str, dt.datetime]]] = {pk: [] for pk in windows}
    if not windows:
        return found
    rows = Signal.objects.filter(
        account_id__in=sorted(windows),
        occurred_at__gte=min(start for start, _ in windows.values()),
        occurred_at__lte=max(end for _, end in windows.values()),
    ).values_list("account_id", "kind", "occurred_at", "contact_id")
    for account_id, kind, occurred_at, contact in rows.iterator(chunk_size=2000):
        start, end = windows[account_id]
        if start <= occurred_at <= end:
            found[account_id].append((kind, occurred_at, contact))
    return found
