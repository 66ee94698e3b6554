"""Backtest: how well a scoring model version would have ranked the accounts, judged on what happened afterwards.

Every account is scored as of a past moment, the **cutoff**, by the version under review (a draft, proposed by the
recalibration or edited by hand, or any version) and by the active version, exactly as the product scores
(`segmentation.scoring.score_account`, the candidate tier by `segmentation.tiers.candidate_tier`), from what was known
then:
- the signals that occurred before the cutoff (within each version's signal lookback and buying-group engagement
  window), each with the persona of its contact;
- the account's attribute values as they are now: attributes keep no history, so the report names the attributes the
  versions read (those values may have changed since the cutoff, which favours neither version).
The tier is the candidate tier of the scores (thresholds and minimum fit): the holds that depend on an account's
history (hysteresis, minimum time in tier, surges, Tier 1 capacity) are not replayed.

**Outcomes.** The accounts with a deal closed after the cutoff's date (`closed_on` > cutoff date: a close date carries
no time, so a deal closed on the cutoff's own day might precede it and is left out); an account is won when any such
deal was won. The default cutoff is 00:00 UTC of the day before the first close date of the most recent 30% of the
closed deals with a close date, so those deals are the outcomes.

**Report**, for each version, on the same accounts:
- AUC of the unified score on the outcome accounts (`sklearn.metrics.roc_auc_score`: the chance that a won account
  scores above a lost one, ties counting half) with its 95% interval by Hanley & McNeil (`maths.auc_interval`);
- win rate by tier among the outcome accounts, with Wilson intervals (`core.stats.wilson_interval`);
- lift by score quintile: the outcome accounts ordered by unified score (highest first, ties in account order), cut
  into five equal bands; lift = the band's win rate / the overall win rate;
- tier mix: the share of all accounts scored as of the cutoff in each tier;
- MQA volume: the accounts whose candidate tier is one of the version's MQA tiers with signal >= its MQA minimum
  signal (the cooldown after a rejection and open handoffs are not replayed).
With fewer than MIN_OUTCOME_WINS won or MIN_OUTCOME_LOSSES lost accounts the verdict is `too_few_outcomes`: no AUC and
no lift, only the tier mix, the MQA volume and the win rates by tier, described.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable

import numpy as np
from django.db import transaction
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from accounts.criteria import VALUE_COLUMNS, account_values, attribute_label
from accounts.models import Account, Opportunity, Signal
from core.jobs import job_create, job_progress
from core.models import Job
from core.stats import wilson_interval
from core.tiers import LABELS, RANKED, SUPPRESS
from segmentation.definition import scoring_params, tier_thresholds
from segmentation.models import ScoringModel
from segmentation.scoring import SignalEvent, score_account
from segmentation.selectors import active_model
from segmentation.tiers import candidate_tier

from .maths import QUERY_CHUNK, auc_interval, lift_table

MIN_OUTCOME_WINS = MIN_OUTCOME_LOSSES = 20
SHARE_AFTER = 0.3  # the default cutoff leaves this share of the closed deals after it
QUINTILES = 5
ACCOUNT_CHUNK = QUERY_CHUNK  # accounts read, scored and reported as progress at a time
COMPARED, TOO_FEW_OUTCOMES, NO_DEALS = "compared", "too_few_outcomes", "no_deals"
VERDICT_LABELS = {
    COMPARED: "Compared",
    TOO_FEW_OUTCOMES: "Too few outcomes",
    NO_DEALS: "No closed deals",
}
TIER_ORDER = [*RANKED, SUPPRESS]
DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


class CutoffError(ValueError):
    """A cutoff a backtest cannot use, with a message a person can act on."""


def cutoff_moment(day: dt.date) -> dt.datetime:
    """The cutoff of a date: 00:00 UTC that day."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def default_cutoff() -> dt.datetime | None:
    """00:00 UTC of the day before the first close date of the most recent 30% of the closed deals with a close date
    (those deals close after it); None when no closed deal has a close date."""
    deals = Opportunity.objects.filter(is_closed=True, closed_on__isnull=False)
    count = deals.count()
    if not count:
        return None
    after = max(1, math.ceil(SHARE_AFTER * count))
    first = deals.order_by("-closed_on").values_list("closed_on", flat=True)[after - 1]
    return cutoff_moment(first - dt.timedelta(days=1))


def parse_cutoff(text: str | None, *, today: dt.date | None = None) -> dt.datetime | None:
    """The cutoff typed as a date ("2024-06-30") -> 00:00 UTC that day; None for nothing typed (the default).
    CutoffError for text that is not such a date or a date after today."""
    text = str(text or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text) if DATE_TEXT.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise CutoffError(f"Write the cutoff as a date, YYYY-MM-DD (e.g. 2024-06-30); “{text}” is not one.")
    today = today or timezone.now().date()
    if day > today:
        raise CutoffError(
            f"The cutoff must be in the past: {day:%Y-%m-%d} is after today ({today:%Y-%m-%d}); nothing has closed "
            "after it yet."
        )
    return cutoff_moment(day)


def _outcomes(cutoff: dt.datetime) -> dict[int, bool]:
    """{account id: won} for the accounts with a deal closed after the cutoff's date; won when any such deal was."""
    found: dict[int, bool] = {}
    deals = Opportunity.objects.filter(is_closed=True, closed_on__gt=cutoff.date())
    for account_id, won in deals.values_list("account_id", "is_won").iterator(chunk_size=QUERY_CHUNK):
        found[account_id] = found.get(account_id, False) or bool(won)
    return found


def _attributes_read(models: list[ScoringModel]) -> list[str]:
    """The account attributes the versions' criteria and exclusions read, in order of first use."""
    seen: dict[str, None] = {}
    for model in models:
        criteria, exclusions = model.current_criteria()
        for item in [*criteria, *exclusions]:
            name = str(item.get("attribute") or "").strip()
            if name:
                seen.setdefault(name, None)
    return list(seen)


def no_history_sentence(attributes: list[str]) -> str:
    if not attributes:
        return "The versions read no account attribute: only signals, which are read as of the cutoff."
    labels = [attribute_label(a) for a in attributes]
    listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    verb, pronoun = ("is", "it is") if len(labels) == 1 else ("are", "they are")
    return (
        f"Account attributes keep no history: {listed} {verb} read as {pronoun} today, not as they were at the "
        "cutoff. Signals and the personas of their contacts are read as of the cutoff."
    )


class _Side:
    """One version's scores as of the cutoff, summed as the accounts go by."""

    def __init__(self, model: ScoringModel, role: str):
        self.model = model
        self.role = role
        self.params = scoring_params(model)
        self.thresholds = tier_thresholds(model)
        self.mqa_tiers = set(model.mqa_tiers or ())
        self.mqa_signal_min = float(model.mqa_signal_min)
        self.tiers: Counter = Counter()
        self.mqas = 0
        self.accounts = 0
        self.outcome_scores: dict[int, tuple[float, str]] = {}  # account id -> (unified, tier)

    @property
    def window_days(self) -> float:
        return max(self.params.lookback_days, self.params.engagement_window_days)

    def add(self, account_id: int, values: dict, events, cutoff: dt.datetime, outcomes: dict[int, bool]) -> None:
        score = score_account(self.params, values, events, cutoff)
        tier = candidate_tier(self.thresholds, fit=score.fit, unified=score.unified, excluded=score.excluded)
        self.accounts += 1
        self.tiers[tier] += 1
        if tier in self.mqa_tiers and score.signal >= self.mqa_signal_min:
            self.mqas += 1
        if account_id in outcomes:
            self.outcome_scores[account_id] = (score.unified, tier)

    def report(self, outcomes: dict[int, bool], *, enough: bool) -> dict:
        model = self.model
        ids = sorted(self.outcome_scores)
        won = np.array([outcomes[i] for i in ids], dtype=bool)
        unified = np.array([self.outcome_scores[i][0] for i in ids], dtype=float)
        tiers = [self.outcome_scores[i][1] for i in ids]
        wins, losses = int(won.sum()), int(len(won) - won.sum())
        auc = low = high = None
        lift = []
        if enough:
            auc = float(roc_auc_score(won, unified))
            low, high = auc_interval(auc, wins, losses)
            lift = [
                {
                    "band": row["band"],
                    "label": row["label"],
                    "accounts": row["deals"],
                    "wins": row["wins"],
                    "win_rate": row["win_rate"],
                    "mean_score": row["predicted"],  # lift_table's mean "probability" in per cent: the mean score
                    "lift": row["lift"],
                }
                for row in lift_table(won, unified / 100.0, bands=QUINTILES)
            ]
        by_tier = []
        for tier in TIER_ORDER:
            members = [w for w, t in zip(won, tiers, strict=True) if t == tier]
            n, tier_wins = len(members), int(sum(members))
            interval = wilson_interval(tier_wins, n)
            by_tier.append(
                {
                    "tier": tier,
                    "label": LABELS[tier],
                    "accounts": n,
                    "wins": tier_wins,
                    "win_rate": round(100 * tier_wins / n, 2) if n else None,
                    "low": round(interval[0], 2) if interval else None,
                    "high": round(interval[1], 2) if interval else None,
                }
            )
        total = self.accounts
        return {
            "model_id": model.pk,
            "version": model.version,
            "name": model.name,
            "status": model.status,
            "role": self.role,
            "label": f"{model.get_status_display()} v{model.version}",
            "accounts": total,
            "auc": round(auc, 4) if auc is not None else None,
            "auc_low": round(low, 4) if low is not None else None,
            "auc_high": round(high, 4) if high is not None else None,
            "win_rates": by_tier,
            "lift": lift,
            "tier_mix": [
                {
                    "tier": tier,
                    "label": LABELS[tier],
                    "accounts": self.tiers.get(tier, 0),
                    "share": round(100 * self.tiers.get(tier, 0) / total, 2) if total else None,
                }
                for tier in TIER_ORDER
            ],
            "mqa_tiers": [t for t in TIER_ORDER if t in self.mqa_tiers],
            "mqa_signal_min": self.mqa_signal_min,
            "mqas": self.mqas,
            "mqa_share": round(100 * self.mqas / total, 2) if total else None,
        }


def _account_chunks():
    """Every account's values for the criteria, ACCOUNT_CHUNK at a time by id (keyset: memory bounded by a chunk)."""
    size, last = ACCOUNT_CHUNK, 0
    while True:
        rows = list(Account.objects.filter(pk__gt=last).order_by("pk").values(*VALUE_COLUMNS)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def _events(account_ids: list[int], *, since: dt.datetime, cutoff: dt.datetime) -> tuple[dict, int]:
    """{account id: [SignalEvent]} of the accounts' signals with since <= occurred_at < cutoff, each with its
    contact and the contact's persona (the per-contact cap counts by contact), in one ordered pass; and how many were
    read."""
    events: dict[int, list[SignalEvent]] = {}
    read = 0
    signals = Signal.objects.filter(account_id__in=account_ids, occurred_at__gte=since, occurred_at__lt=cutoff)
    # A fixed order: the same signals always sum to the same float, as the scoring engine reads them.
    rows = signals.order_by("account_id", "occurred_at", "id").values_list(
        "account_id", "kind", "occurred_at", "contact__persona", "contact_id"
    )
    for account_id, kind, occurred_at, persona, contact in rows.iterator(chunk_size=QUERY_CHUNK):
        events.setdefault(account_id, []).append(SignalEvent(kind, occurred_at, persona, contact))
        read += 1
    return events, read


def verdict_message(report: dict) -> str:
    verdict = report["verdict"]
    if verdict == NO_DEALS:
        return "No closed deal has a close date: there are no outcomes to backtest against."
    day = report["cutoff_date"]
    counts = (
        f"{report['outcomes']:,} accounts had a deal closed after {day}: {report['won']:,} won and "
        f"{report['lost']:,} lost"
    )
    if verdict == TOO_FEW_OUTCOMES:
        return (
            f"Too few outcomes to judge the scores: {counts}; a backtest needs at least {MIN_OUTCOME_WINS} won and "
            f"{MIN_OUTCOME_LOSSES} lost. Choose an earlier cutoff."
        )
    return f"{counts}."


def comparison_sentence(models: list[dict]) -> str:
    """Which version ranks the outcome accounts better, and whether the AUC intervals say it is more than chance."""
    if len(models) < 2 or any(m["auc"] is None for m in models):
        return ""
    first, second = models
    if first["auc"] == second["auc"]:
        return f"Both rank the accounts equally well (AUC {first['auc']:.3f})."
    better, worse = (first, second) if first["auc"] > second["auc"] else (second, first)
    words = (
        f"{better['label']} ranks the accounts better than {worse['label']} "
        f"(AUC {better['auc']:.3f} vs {worse['auc']:.3f})"
    )
    if better["auc_low"] > worse["auc_high"]:
        return words + "; their 95% intervals do not overlap."
    return words + "; their 95% intervals overlap, so the difference may be chance."


def backtest_compute(
    *, model: ScoringModel, cutoff: dt.datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> dict:
    """The backtest of `model` beside the active version (see the module docstring); nothing is written.
    `progress(done, total)` is called after each chunk of accounts."""
    chosen = cutoff is not None
    cutoff = cutoff or default_cutoff()
    active = active_model()
    sides = [_Side(model, "reviewed")]
    if active is not None and active.pk != model.pk:
        sides.append(_Side(active, "active"))
    attributes = _attributes_read([s.model for s in sides])
    report: dict = {
        "model_id": model.pk,
        "version": model.version,
        "cutoff": cutoff.isoformat() if cutoff else None,
        "cutoff_date": f"{cutoff:%Y-%m-%d}" if cutoff else None,
        "cutoff_chosen": chosen,
        "no_history": {"attributes": attributes, "labels": [attribute_label(a) for a in attributes]},
    }
    report["no_history"]["sentence"] = no_history_sentence(attributes)
    if cutoff is None:
        report.update(verdict=NO_DEALS, outcomes=0, won=0, lost=0, accounts=0, signals_read=0, models=[])
        return _finish(report)
    outcomes = _outcomes(cutoff)
    since = cutoff - dt.timedelta(days=max(side.window_days for side in sides))
    total = Account.objects.count()
    done = read = 0
    for rows in _account_chunks():
        events, count = _events([row["id"] for row in rows], since=since, cutoff=cutoff)
        read += count
        for row in rows:
            values = account_values(row)
            found = events.get(row["id"], ())
            for side in sides:
                side.add(row["id"], values, found, cutoff, outcomes)
        done += len(rows)
        if progress:
            progress(done, max(total, done))
    won = sum(outcomes.values())
    lost = len(outcomes) - won
    enough = won >= MIN_OUTCOME_WINS and lost >= MIN_OUTCOME_LOSSES
    report.update(
        verdict=COMPARED if enough else TOO_FEW_OUTCOMES,
        accounts=done,
        outcomes=len(outcomes),
        won=won,
        lost=lost,
        win_rate=round(100 * won / len(outcomes), 2) if outcomes else None,
        signals_read=read,
        signals_since=since.isoformat(),
        models=[side.report(outcomes, enough=enough) for side in sides],
    )
    return _finish(report)


def _finish(report: dict) -> dict:
    report["verdict_label"] = VERDICT_LABELS[report["verdict"]]
    report["message"] = verdict_message(report)
    report["comparison"] = comparison_sentence(report["models"])
    summary = {"verdict": report["verdict_label"], "cutoff": report["cutoff_date"] or "none"}
    summary["accounts with an outcome"] = report["outcomes"]
    summary["won"] = report["won"]
    for side in report["models"]:
        if side["auc"] is not None:
            summary[f"AUC, {side['label']}"] = f"{side['auc']:.3f} ({side['auc_low']:.3f}-{side['auc_high']:.3f})"
        summary[f"MQAs, {side['label']}"] = side["mqas"]
    report["summary"] = summary
    report["notes"] = [n for n in (report["message"], report["comparison"], report["no_history"]["sentence"]) if n]
    return report


# --- The job -------------------------------------------------------------------------------------------------


def backtest_run(*, job: Job) -> dict:
    """The job's work: the backtest of the version in its params, progress after each chunk of accounts."""
    params = job.params or {}
    model = ScoringModel.objects.select_related("icp").filter(pk=params.get("model_id")).first()
    if model is None:
        raise LookupError(f"Scoring model version {params.get('version')} no longer exists: it was deleted.")
    cutoff = dt.datetime.fromisoformat(params["cutoff"]) if params.get("cutoff") else None
    return backtest_compute(
        model=model, cutoff=cutoff, progress=lambda done, total: job_progress(job=job, done=done, total=total)
    )


def backtest_job_start(*, model: ScoringModel, user, cutoff: dt.datetime | None = None) -> Job:
    """Record a backtest job of `model` as of `cutoff` (None: the default cutoff) and queue its task once the
    caller's transaction commits."""
    from ..tasks import backtest_task

    job = job_create(
        kind=Job.Kind.BACKTEST,
        created_by=user,
        title=f"backtest {model.name} v{model.version}",
        params={"model_id": model.pk, "version": model.version, "cutoff": cutoff.isoformat() if cutoff else None},
        total=Account.objects.count(),
    )
    transaction.on_commit(lambda: backtest_task.delay(job.pk))
    return job


def backtest_job_latest(model: ScoringModel) -> Job | None:
    """The latest backtest job of `model`, finished or not."""
    return (
        Job.objects.filter(kind=Job.Kind.BACKTEST, params__model_id=model.pk)
        .select_related("created_by")
        .order_by("-created_at", "-id")
        .first()
    )
