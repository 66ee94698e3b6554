"""The analysis (fit, report, verdict) and its proposal: a complete draft scoring model."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from accounts.criteria import criterion_from_dict, criterion_matches
from accounts.models import Account, Opportunity, Signal
from core.jobs import job_create, job_progress
from core.models import Job
from core.stats import p_value_text
from segmentation.defaults import STANDARD_PERSONAS
from segmentation.models import ICP, AccountScore, ScoringModel
from segmentation.scoring import ScoringParams, SignalRule, score_account
from segmentation.selectors import active_model
from segmentation.services import icp_create, model_draft_create

from .data import DealSet, account_values_of, closed_deals, events_before, score_band_table, signal_history
from .features import (
    Candidate,
    build_candidates,
    criteria_definitions,
    moments_of,
    signal_definitions,
)
from .maths import (
    AS_OF_CHOICES,
    AUC_FLOOR,
    DEFAULT_AS_OF,
    MAX_DEALS,
    MIN_DEALS,
    MIN_LOSSES,
    MIN_WINS,
    NO_SIGNAL,
    PROPOSAL,
    STEPS,
    TIERS_IN_MIX,
    TOO_LITTLE_DATA,
    VERDICT_LABELS,
    WinModel,
    auc_interval,
    black_box_auc,
    calibration_points,
    feature_effects,
    lift_table,
    split_rows,
    verdict_for,
    win_model_fit,
)
from .proposal import (
    DEFAULT_MIX,
    PointsModel,
    apply_floor,
    gaps_of,
    points_from_fit,
    thresholds_for_mix,
    unified_scores,
)

METHOD = 2  # bump when the analysis changes, so a re-run on unchanged data computes afresh
CHECKED = 1_000  # held-out deals scored through the scoring itself, to check the proposal's arithmetic
POPULATION_CAP = 200_000  # accounts read to set the thresholds (a seeded sample beyond)
DEFAULT_LOOKBACK = 365
MAX_LOOKBACK = 3650  # the longest lookback a model may have


@dataclass
class Recalibration:
    """The report (what the job stores) and, for whoever ran it in process, the deals of the held-out part."""

    report: dict
    deal_ids: list[int] = field(default_factory=list)
    test_rows: list[int] = field(default_factory=list)  # indexes into deal_ids
    draft: ScoringModel | None = None
    points: PointsModel | None = None
    settings: dict = field(default_factory=dict)  # the draft's numbers besides its criteria


def _params(
    model: ScoringModel | None, points: PointsModel | None = None, *, lookback: float | None = None
) -> ScoringParams:
    """What the scoring reads of a model: the active one's, or (with `points`) the proposal's."""
    exclusions = tuple(criterion_from_dict(c) for c in (model.current_criteria()[1] if model else []))
    personas = tuple(model.required_personas or ()) if model else tuple(STANDARD_PERSONAS)
    engagement = float(model.engagement_window_days) if model else 90.0
    if points is None:
        if model is None:
            raise ValueError("Scoring parameters need a model or a proposal.")
        criteria = model.current_criteria()[0]
        rules = model.signal_rules or []
        weights = {"w_fit": model.w_fit, "w_signal": model.w_signal, "w_coverage": model.w_coverage}
        full = model.full_signal_points
        lookback = float(model.lookback_days)
    else:
        criteria, rules, weights = points.criteria, points.signal_rules, points.weights()
        full = points.full_signal_points or 100.0
    return ScoringParams(
        criteria=tuple(criterion_from_dict(c) for c in criteria),
        exclusions=exclusions,
        signal_rules=tuple(
            SignalRule(str(r["kind"]).strip(), float(r["points"]), float(r["half_life_days"]), float(r["max_points"]))
            for r in rules
        ),
        required_personas=personas,
        full_signal_points=float(full),
        lookback_days=float(lookback or DEFAULT_LOOKBACK),
        engagement_window_days=engagement,
        **weights,
    )


def _auc(won: np.ndarray, scores) -> dict:
    if won.all() or not won.any():
        return {"auc": None, "low": None, "high": None}
    auc = float(roc_auc_score(won, scores))
    low, high = auc_interval(auc, int(won.sum()), int(len(won) - won.sum()))
    return {"auc": round(auc, 4), "low": round(low, 4), "high": round(high, 4)}


def _product_scores(params: ScoringParams, deals: DealSet, rows, values: dict, events: dict) -> list[float]:
    """The unified score the product computes with `params` as of each deal's moment, from what was known then."""
    scores = []
    for row in rows:
        account_id = deals.account_ids[row]
        moment = dt.datetime.combine(deals.as_of[row], dt.time.min, tzinfo=dt.UTC)
        history = events_before(events.get(account_id, []), moment)
        scores.append(score_account(params, values.get(account_id, {}), history, moment).unified)
    return scores


def current_mix() -> list[float] | None:
    """The share (per cent) of scored, unsuppressed accounts in Tier 1, 2, 3 and Recycle now; None when none."""
    counts = dict(AccountScore.objects.values_list("tier").annotate(n=Count("pk")).values_list("tier", "n"))
    total = sum(counts.get(t, 0) for t in TIERS_IN_MIX)
    if not total:
        return None
    return [round(100.0 * counts.get(t, 0) / total, 1) for t in TIERS_IN_MIX]


def _accounts_read(deal_accounts: list[int]) -> tuple[list[int], np.ndarray, dict[int, dict], bool]:
    """What one pass reads for both the deals and the thresholds: the accounts (every one, or a seeded sample of
    POPULATION_CAP plus the deals' accounts), the population the thresholds are cut on (indexes into them), their
    values, and whether the accounts are every account."""
    if Account.objects.count() <= POPULATION_CAP:
        values = account_values_of(None)
        read, population, every = list(values), None, True
    else:
        ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
        chosen = np.random.default_rng(METHOD).choice(len(ids), POPULATION_CAP, replace=False)
        sample = [ids[i] for i in sorted(chosen)]
        read = sorted(set(sample) | set(deal_accounts))
        values = account_values_of(read)
        where = {a: i for i, a in enumerate(read)}
        population, every = np.array([where[a] for a in sample], dtype=np.int64), False
    if population is None:
        population = np.arange(len(read), dtype=np.int64)
    known = set(read)
    read += sorted({a for a in deal_accounts if a not in known})  # deleted since their deals were read: no values
    return read, population, values, every


def recalibration_compute(
    *,
    model: ScoringModel | None,
    limit: int = MAX_DEALS,
    target_mix: list[float] | None = None,
    as_of: str = DEFAULT_AS_OF,
    progress: Callable[[int], None] | None = None,
) -> Recalibration:
    """Read the closed deals, build every candidate feature, fit and judge the win model, and turn it into a
    complete points model with thresholds at the target mix; the report and its verdict (no draft is created
    here: see `recalibration_run`)."""
    step = progress or (lambda done: None)
    if as_of not in AS_OF_CHOICES:
        raise ValueError(f"Read the features as of one of: {', '.join(AS_OF_CHOICES)}.")
    deals = closed_deals(limit=limit, as_of=as_of)
    n, wins = len(deals.deal_ids), int(deals.won.sum())
    lookback = float(model.lookback_days) if model is not None else float(DEFAULT_LOOKBACK)
    report: dict[str, Any] = {
        "computed_at": timezone.now().isoformat(),
        "method": METHOD,
        "active_model": (
            {"id": model.pk, "version": model.version, "name": model.name, "icp": model.icp.name} if model else None
        ),
        "deals": n,
        "wins": wins,
        "losses": n - wins,
        "base_rate": round(100 * wins / n, 2) if n else None,
        "without_close_date": deals.without_close_date,
        "capped": deals.capped,
        "cap": limit,
        "as_of": as_of,
        "as_of_label": AS_OF_CHOICES[as_of],
        "as_of_fallback": deals.as_of_fallback,
        "lookback_days": lookback,
        "requirements": {"deals": MIN_DEALS, "wins": MIN_WINS, "losses": MIN_LOSSES, "auc_floor": AUC_FLOOR},
        "score_bands": score_band_table(deals.unified, deals.won),
        "auc": None,
        "auc_low": None,
        "auc_high": None,
        "gbm_auc": None,
        "points_auc": None,
        "points_auc_low": None,
        "points_auc_high": None,
        "active_auc": None,
        "lift": [],
        "calibration": [],
        "ranking": [],
        "features": {"used": [], "left_out": []},
        "target_mix": target_mix,
        "achieved_mix": None,
        "proposal": None,
    }
    step(1)
    if verdict_for(deals=n, wins=wins) == TOO_LITTLE_DATA:
        return _finish(report, TOO_LITTLE_DATA, deals=deals)

    moments = moments_of(deals.as_of)
    first = dt.datetime.fromtimestamp(float(moments.min()), tz=dt.UTC)
    last = dt.datetime.fromtimestamp(float(moments.max()), tz=dt.UTC)
    now = timezone.now()
    # Published, the draft scores now: its lookback reaches back to the oldest deal's window, so the signals the
    # deals learned from still count (a rule that decays weighs old ones little anyway).
    reach = (now - first).total_seconds() / 86_400 + lookback
    publish_lookback = float(min(MAX_LOOKBACK, max(lookback, math.ceil(reach))))
    # One read serves the deals (each as of its moment) and the population (as of now).
    read, population, values, every = _accounts_read(deals.account_ids)
    total = len(values) if every else Account.objects.count()
    where = {a: i for i, a in enumerate(read)}
    since = min(first - dt.timedelta(days=lookback), now - dt.timedelta(days=publish_lookback))
    history, _events = signal_history(read, since=since, until=now, every=every, events=False)
    deal_values = [values.get(a, {}) for a in deals.account_ids]
    row_account = np.array([where[a] for a in deals.account_ids], dtype=np.int64)
    train, test = split_rows(deals.won)

    criteria, left_criteria = criteria_definitions([deal_values[i] for i in train])
    signals, left_signals = signal_definitions(history, row_account, moments, deals.won, train, lookback_days=lookback)
    candidates = build_candidates(criteria, signals, deal_values, history, row_account, moments, lookback_days=lookback)
    left_out = left_criteria + left_signals + candidates.left_out
    step(2)
    if not candidates.items:
        report["features"]["left_out"] = left_out
        report["message_detail"] = "No attribute or signal differs between these deals: there is nothing to learn."
        return _finish(report, NO_SIGNAL, deals=deals)

    matrix = candidates.matrix()
    fitted = win_model_fit(matrix, deals.won, split=(train, test))
    test_won = deals.won[test]
    points = points_from_fit(candidates.items, fitted.coefficients)
    report.update(
        {
            "train": {"deals": len(train), "wins": int(deals.won[train].sum())},
            "test": {"deals": len(test), "wins": int(test_won.sum())},
            "auc": round(fitted.auc, 4),
            "auc_low": round(fitted.auc_low, 4),
            "auc_high": round(fitted.auc_high, 4),
            "regularisation": fitted.regularisation,
            "gbm_auc": round(black_box_auc(matrix, deals.won, train, test), 4),
            "lift": lift_table(test_won, fitted.predicted),
            "calibration": calibration_points(test_won, fitted.predicted),
        }
    )
    step(3)

    population_rows = [values.get(read[i], {}) for i in population]
    in_use = [c for c in candidates.items if c.kind == "criterion"]
    population_candidates = build_candidates(
        [{**c.criterion} for c in in_use],
        [c.signal for c in candidates.items if c.kind == "signal"],
        population_rows,
        history,
        population,
        np.full(len(population), now.timestamp()),
        lookback_days=publish_lookback,
        dedupe=False,
    )
    columns = {
        c.name: column for c, column in zip(in_use, (p.column for p in population_candidates.items), strict=False)
    }
    sums = {p.signal["kind"]: p.column for p in population_candidates.items if p.kind == "signal"}
    apply_floor(points, candidates.items, columns, len(population))
    _fit, _signal, unified = unified_scores(points, columns, sums, len(population))
    exclusions = [criterion_from_dict(c) for c in (model.current_criteria()[1] if model else [])]
    kept = np.array([not any(criterion_matches(e, row) for e in exclusions) for row in population_rows], dtype=bool)
    mix = target_mix or current_mix() or list(DEFAULT_MIX)
    settings, achieved = thresholds_for_mix(unified[kept] if len(kept) else unified, mix, gaps_of(model))
    settings.update(points.weights())
    settings.update({"full_signal_points": points.full_signal_points or 100.0, "lookback_days": int(publish_lookback)})

    # The points model on the held-out deals: every one by the same arithmetic as the scoring (vectorised), and a
    # sample through the scoring itself, which must agree to the stored tenth.
    deal_columns = {c.name: c.column for c in candidates.items if c.kind == "criterion"}
    deal_sums = {c.signal["kind"]: c.column for c in candidates.items if c.kind == "signal"}
    _fit, _signal, deal_unified = unified_scores(points, deal_columns, deal_sums, n)
    judged = _auc(test_won, deal_unified[test])
    sample = test[:: max(1, len(test) // CHECKED)][:CHECKED]
    checked_accounts = sorted({deals.account_ids[row] for row in sample})
    _history, events = signal_history(checked_accounts, since=first - dt.timedelta(days=lookback), until=last)
    checked = _product_scores(_params(model, points, lookback=lookback), deals, sample, values, events)
    report["points_checked"] = {
        "deals": len(sample),
        "disagree": int(np.sum(np.abs(np.asarray(checked) - deal_unified[sample]) > 0.05)),
    }
    report.update(
        {
            "points_auc": judged["auc"],
            "points_auc_low": judged["low"],
            "points_auc_high": judged["high"],
            "target_mix": mix,
            "target_mix_source": "given" if target_mix else ("current" if current_mix() else "default"),
            "achieved_mix": achieved,
            "population": {"accounts": len(population), "of": total, "sampled": not every},
            "ranking": _ranking(candidates.items, matrix, deals.won, fitted, points),
            "features": {"used": _used(candidates.items, points), "left_out": left_out + points.dropped},
        }
    )
    if model is not None:
        sample_won = deals.won[sample]
        report["active_auc_sample"] = {
            "deals": len(sample),
            "auc": _auc(sample_won, _product_scores(_params(model), deals, sample, values, events))["auc"],
            "points_auc": _auc(sample_won, deal_unified[sample])["auc"],
        }
    verdict = verdict_for(deals=n, wins=wins, auc=fitted.auc, auc_low=fitted.auc_low)
    if verdict == PROPOSAL:
        report["proposal"] = {
            "criteria": points.criteria,
            "signal_rules": points.signal_rules,
            "settings": settings,
            "floor": points.floor,
            "clamped": points.clamped,
            "scale": round(points.scale, 4),
        }
    result = _finish(report, verdict, deals=deals, test_rows=test.tolist())
    result.points, result.settings = points, settings
    return result


def _used(candidates: list[Candidate], points: PointsModel) -> list[dict]:
    awarded = {f"{c['attribute']}:{c['operator']}:{c['value']}": c["points"] for c in points.criteria}
    rules = {r["kind"]: r["points"] for r in points.signal_rules}
    used = []
    for candidate in candidates:
        value = rules.get(candidate.signal["kind"]) if candidate.kind == "signal" else awarded.get(candidate.name)
        used.append({"name": candidate.name, "label": candidate.label, "kind": candidate.kind, "points": value})
    return used


def _ranking(
    candidates: list[Candidate], matrix: np.ndarray, won: np.ndarray, fitted: WinModel, points: PointsModel
) -> list[dict]:
    """Every feature, most important first, with its effect and the points the proposal gives it."""
    used = {row["name"]: row["points"] for row in _used(candidates, points)}
    rows = []
    for index, candidate in enumerate(candidates):
        coefficient = float(fitted.coefficients[index])
        effects = feature_effects(matrix[:, index], won)
        rows.append(
            {
                "name": candidate.name,
                "label": candidate.label,
                "kind": candidate.kind,
                "source": "candidate",
                "criterion": candidate.criterion,
                "signal_kind": candidate.signal["kind"] if candidate.signal else None,
                "coefficient": round(coefficient, 4),
                "odds_ratio": round(math.exp(max(-50.0, min(50.0, coefficient))), 3),
                "importance": round(float(fitted.importance[index]), 4),
                **effects,
                "p_value": float(f"{effects['p_value']:.3g}"),
                "p_value_text": p_value_text(effects["p_value"]),
                "points": used.get(candidate.name),
                "meaningful": used.get(candidate.name) is not None,
            }
        )
    rows.sort(key=lambda r: (-r["importance"], r["label"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _finish(report: dict, verdict: str, *, deals: DealSet, test_rows: list[int] | None = None) -> Recalibration:
    report["verdict"] = verdict
    report["verdict_label"] = VERDICT_LABELS[verdict]
    report["message"] = verdict_message(report, verdict)
    return Recalibration(report=report, deal_ids=deals.deal_ids, test_rows=test_rows or [])


def verdict_message(report: dict, verdict: str) -> str:
    """The verdict in plain words, with the figures behind it."""
    n, wins, losses = report["deals"], report["wins"], report["losses"]
    if verdict == TOO_LITTLE_DATA:
        return (
            f"It needs at least {MIN_DEALS} closed deals with a close date, "
            f"{MIN_WINS} of them won and {MIN_LOSSES} lost; there are {n:,} ({wins:,} won, {losses:,} lost). "
            "Nothing is proposed."
        )
    auc = report.get("auc")
    figures = (
        f"held-out AUC {auc:.3f} (95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f}) "
        f"on {report['test']['deals']:,} of {n:,} closed deals"
        if auc is not None
        else f"{n:,} closed deals"
    )
    if verdict == NO_SIGNAL:
        detail = report.get("message_detail") or (
            f"The attributes and signals do not predict wins: {figures}; the interval includes 0.5, a coin toss. "
            "Win rates barely differ between these segments."
            if auc is not None and report["auc_low"] <= 0.5
            else f"The attributes and signals barely predict wins: {figures}, better than chance but below "
            f"{AUC_FLOOR}, too weak an effect to act on."
        )
        if report.get("message_detail") and auc is not None:
            detail += f" ({figures}.)"
        return f"{detail} No new points are proposed: they would be fitted to noise."
    proposal = report.get("proposal") or {}
    count = len(proposal.get("criteria") or [])
    rules = len(proposal.get("signal_rules") or [])
    points = report.get("points_auc")
    judged = (
        f" Scored in points as the product scores, it ranks the same held-out deals at AUC {points:.3f}."
        if points is not None
        else ""
    )
    return (
        f"The model predicts wins: {figures}.{judged} A draft proposes a complete model: {count} "
        f"criteri{'on' if count == 1 else 'a'}, {rules} signal rule{'' if rules == 1 else 's'}, blend weights and "
        "tier thresholds at the target mix; backtest or preview it, then publish it like any draft."
    )


def _unique_icp_name(base: str) -> str:
    base = base[:110]
    name, number = base, 2
    while ICP.objects.filter(name=name).exists():
        name, number = f"{base} #{number}", number + 1
    return name


def recalibration_draft_create(
    *, report: dict, model: ScoringModel | None, user, job: Job | None = None
) -> ScoringModel:
    """A new ICP with the proposed criteria (and the active ICP's exclusions) and a draft scoring model using it:
    the proposed signal rules, weights and thresholds, everything else copied from the active version (or the
    defaults when none is active). Nothing is published."""
    today = timezone.now().date().isoformat()
    source = f" (from {model.icp.name})" if model is not None else ""
    marker = f" [recalibration {report['fingerprint']}]" if report.get("fingerprint") else ""
    proposal = report["proposal"]
    mix = ", ".join(f"{share:g}%" for share in report["target_mix"])
    notes = (
        f"Proposed by the recalibration of {today}{marker}: a regularised logistic regression on "
        f"{report['deals']:,} closed deals ({report['wins']:,} won), held-out AUC {report['auc']:.3f} "
        f"(95% CI {report['auc_low']:.3f}-{report['auc_high']:.3f})"
        + (f"; these points rank the same deals at {report['points_auc']:.3f}" if report.get("points_auc") else "")
        + f". Thresholds set for a tier mix of {mix} (Tier 1, 2, 3, Recycle); minimum-fit guardrails 0; "
        + (f"MQA, surge and buying-group settings as in v{model.version}." if model else "default MQA settings.")
    )
    exclusions = model.current_criteria()[1] if model is not None else []
    with transaction.atomic():
        icp = icp_create(
            user=user,
            values={
                "name": _unique_icp_name(f"Recalibrated {today}{source}"),
                "description": notes,
                "criteria": proposal["criteria"],
                "exclusions": exclusions,
            },
        )
        values = {"signal_rules": proposal["signal_rules"], **proposal["settings"]}
        if model is None:
            values["required_personas"] = list(STANDARD_PERSONAS)
        return model_draft_create(
            user=user, based_on=model, icp=icp, name=f"Recalibrated {today}", notes=notes, **values
        )


def data_fingerprint(*, model: ScoringModel | None, target_mix, as_of: str, limit: int) -> str:
    """What the analysis reads, in a few aggregates: unchanged data, model and options give the same fingerprint."""
    parts = [
        METHOD,
        model.pk if model else None,
        model.updated_at.isoformat() if model else None,
        target_mix,
        as_of,
        limit,
    ]
    for manager, stamp in (
        (Opportunity.objects, "updated_at"),
        (Account.objects, "updated_at"),
        (Signal.objects, "id"),
    ):
        found = manager.aggregate(n=Count("pk"), last=Max(stamp))
        parts += [found["n"], str(found["last"])]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


def _earlier_draft(fingerprint: str) -> tuple[Job | None, ScoringModel | None]:
    """The latest finished recalibration over the same data whose draft is still a draft."""
    for job in Job.objects.filter(kind=Job.Kind.RECALIBRATE, status=Job.Status.SUCCEEDED).order_by("-id")[:50]:
        if (job.result or {}).get("fingerprint") != fingerprint:
            continue
        draft_id = ((job.result or {}).get("proposal") or {}).get("model_id")
        draft = ScoringModel.objects.filter(pk=draft_id, status=ScoringModel.Status.DRAFT).first()
        if draft is not None:
            return job, draft
    return None, None


def recalibration_run(
    *,
    user,
    job: Job | None = None,
    limit: int = MAX_DEALS,
    target_mix: list[float] | None = None,
    as_of: str = DEFAULT_AS_OF,
) -> Recalibration:
    """The whole recalibration: the analysis with the active model, and a draft when the verdict is a proposal.

    On unchanged data (same deals, accounts, signals, active model and options) with the earlier draft still a
    draft, it points to that draft and reports what it reported then, rather than proposing twice."""
    model = active_model()

    def progress(done: int) -> None:
        if job is not None:
            job_progress(job=job, done=done, total=STEPS)

    fingerprint = data_fingerprint(model=model, target_mix=target_mix, as_of=as_of, limit=limit)
    earlier_job, earlier = _earlier_draft(fingerprint)
    if earlier is not None and (job is None or earlier_job.pk != job.pk):
        report = dict(earlier_job.result)
        report["reused_from"] = earlier_job.pk
        report["message"] = (
            f"Nothing has changed since recalibration job #{earlier_job.pk}: its draft v{earlier.version} still "
            "stands (a draft is proposed once per state of the data)."
        )
        report["notes"] = [report["message"]]
        progress(STEPS)
        return Recalibration(report=report, draft=earlier)
    result = recalibration_compute(model=model, limit=limit, target_mix=target_mix, as_of=as_of, progress=progress)
    report = result.report
    report["fingerprint"] = fingerprint
    if report["verdict"] == PROPOSAL:
        marker = f"[recalibration {fingerprint}]"
        earlier = ScoringModel.objects.filter(notes__contains=marker, status=ScoringModel.Status.DRAFT).first()
        result.draft = earlier or recalibration_draft_create(report=report, model=model, user=user, job=job)
        report["proposal"].update(
            {
                "model_id": result.draft.pk,
                "version": result.draft.version,
                "icp_id": result.draft.icp_id,
                "icp_name": result.draft.icp.name,
            }
        )
        report["message"] = verdict_message(report, PROPOSAL) + f" Draft: v{result.draft.version}."
    report["summary"] = _summary(report)
    report["notes"] = [report["message"]]
    progress(STEPS)
    return result


def _summary(report: dict) -> dict:
    """The few figures the generic job page shows."""
    summary = {
        "verdict": report["verdict_label"],
        "closed deals": report["deals"],
        "won": report["wins"],
        "win rate %": report["base_rate"],
    }
    if report.get("auc") is not None:
        summary["held-out AUC"] = f"{report['auc']:.3f} ({report['auc_low']:.3f}-{report['auc_high']:.3f})"
    if report.get("points_auc") is not None:
        summary["points model AUC"] = f"{report['points_auc']:.3f}"
    if report.get("proposal") and report["proposal"].get("version"):
        summary["draft"] = f"v{report['proposal']['version']}"
    return summary


def recalibration_job_create(*, user, target_mix: list[float] | None = None, as_of: str = DEFAULT_AS_OF) -> Job:
    """Record a recalibration job (not yet run). `target_mix`: the tier mix the proposal's thresholds aim at, in per
    cent (None: the current mix); `as_of`: which date of each deal the features are read as of (AS_OF_CHOICES)."""
    if as_of not in AS_OF_CHOICES:
        raise ValueError(f"Read the features as of one of: {', '.join(AS_OF_CHOICES)}.")
    return job_create(
        kind=Job.Kind.RECALIBRATE,
        created_by=user,
        title="recalibration from closed deals",
        total=STEPS,
        params={"target_mix": target_mix, "as_of": as_of},
    )


def recalibration_job_start(*, user, target_mix: list[float] | None = None, as_of: str = DEFAULT_AS_OF) -> Job:
    """Record a recalibration job and queue its task once the caller's transaction commits."""
    from ..tasks import recalibrate_task

    job = recalibration_job_create(user=user, target_mix=target_mix, as_of=as_of)
    transaction.on_commit(lambda: recalibrate_task.delay(job.pk))
    return job


def recalibration_job_latest(*, finished: bool = False) -> Job | None:
    """The latest recalibration job (the latest succeeded one with `finished`)."""
    jobs = Job.objects.filter(kind=Job.Kind.RECALIBRATE)
    if finished:
        jobs = jobs.filter(status=Job.Status.SUCCEEDED)
    return jobs.select_related("created_by").order_by("-created_at", "-id").first()
