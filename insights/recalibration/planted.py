"""Closed deals whose true win probability is known: a yardstick for the recalibration.

`planted_create` writes one account per deal, one closed deal per account and the account's signals, all drawn
from a fixed seed, with the outcome of each deal drawn from a probability this module states exactly. A model fitted
on these deals can then be judged against the best any model can do on the same deals: the AUC of the true
probability itself (`Planted.bayes_auc`).

**The model.** For deal i, with its account's values:

    log-odds(won) = INTERCEPT
                  + LEAD_SOURCE[attributes["lead_source"]]      six values, effects -1.0 ... +1.2
                  + PLAN[attributes["plan"]]                    four values, effects -0.6 ... +0.9
                  + EMPLOYEES_PER_DECADE x log10(employee_count)   +0.5 per tenfold head count
                  + SALESFORCE x ("Salesforce" in technologies)    +0.7
                  + SIGNAL_EFFECTS["pricing_page"] x count          +0.35 per signal, 0-6 signals
                  + SIGNAL_EFFECTS["webinar"] x count               +0.5 per signal, 0-3 signals

    P(won) = 1 / (1 + exp(-log-odds)),  INTERCEPT = -2.96, which makes about 37% of deals won.

The signals counted are the account's signals of that kind, all of which occur in the 200 days before the deal's
engaged date (none on or after it, so none after the close either). Everything else is noise with no effect on the
outcome: `noise_attributes` free-form attributes "noise_1", "noise_2", ... each with `noise_values` equally likely
values; a signal kind NOISE_KIND (0-4 signals); the industry, the country and technologies other than Salesforce.

**Distributions.** Lead source and plan by the shares in LEAD_SOURCE_SHARES and PLAN_SHARES; employee_count
log-normal (exp of a normal with mean 5.0 and standard deviation 1.5, so a median of about 150, clipped to
1-400,000); Salesforce in 30% of the accounts; pricing-page signals Binomial(6, 0.3), webinars Binomial(3, 0.25),
noise signals Binomial(4, 0.4). Dates: each deal closed 1-730 days before `today`, engaged 10-120 days before its
close; each signal at a random second of the 200 days before 00:00 UTC on the engaged date. With these the true
probability's AUC is about 0.76.

Rows are written in bulk through `core.bulk.copy_rows` (COPY on PostgreSQL, executemany elsewhere), as
`accounts.generate` writes its synthetic data: 100,000 deals take about 20 seconds on SQLite. The same seed and
`today` always give the same rows (but new ids).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Opportunity, Signal
from core.bulk import copy_rows

INTERCEPT = -2.96
LEAD_SOURCE = {"inbound": 0.0, "outbound": -0.5, "paid_ads": -1.0, "event": 0.4, "partner": 0.8, "referral": 1.2}
LEAD_SOURCE_SHARES = {"inbound": 0.30, "outbound": 0.20, "paid_ads": 0.15, "event": 0.15, "partner": 0.10,
                      "referral": 0.10}  # fmt: skip
PLAN = {"starter": -0.6, "team": 0.0, "business": 0.4, "enterprise": 0.9}
PLAN_SHARES = {"starter": 0.35, "team": 0.30, "business": 0.22, "enterprise": 0.13}
EMPLOYEES_PER_DECADE = 0.5
SALESFORCE = 0.7
SALESFORCE_SHARE = 0.3
SIGNAL_EFFECTS = {"pricing_page": 0.35, "webinar": 0.5}
SIGNAL_COUNTS = {"pricing_page": (6, 0.3), "webinar": (3, 0.25)}  # Binomial(n, p) signals per account
NOISE_KIND = "newsletter_open"
NOISE_COUNT = (4, 0.4)
SIGNAL_WINDOW_DAYS = 200
NOISE_TECHNOLOGIES = ["HubSpot", "AWS", "Slack", "Zendesk"]
INDUSTRIES = ["software", "fintech", "healthcare", "manufacturing", "retail"]
COUNTRIES = ["United States", "United Kingdom", "Germany", "Canada"]
ACCOUNT_COLUMNS = ["name", "domain", "external_id", "industry", "employee_count", "country", "region", "city",
                   "technologies", "is_customer", "attributes", "created_at", "updated_at"]  # fmt: skip
DEAL_COLUMNS = ["account_id", "external_id", "name", "product", "stage", "is_closed", "is_won", "engaged_on",
                "closed_on", "created_at", "updated_at"]  # fmt: skip
SIGNAL_COLUMNS = ["account_id", "contact_id", "kind", "topic", "occurred_at", "source", "created_at"]
BATCH = 20_000


def _ids(model, external_prefix: str, n: int) -> list[int]:
    """The ids of the rows just written with external ids `external_prefix` + 0 ... n-1, in that order."""
    found = dict(
        model.objects.filter(external_id__startswith=external_prefix)
        .values_list("external_id", "id")
        .iterator(chunk_size=20_000)
    )
    return [found[f"{external_prefix}{i}"] for i in range(n)]


def prefix(seed: int) -> str:
    """The external id prefix of a seed's accounts and deals."""
    return f"planted-{seed}-"


@dataclass
class Planted:
    """What `planted_create` wrote, in deal order: deal i is `deal_ids[i]` on account `account_ids[i]`, won with
    probability `probability[i]`. `truth` holds the variables of the model per deal (the lead source and plan as
    strings, employee_count, salesforce 0/1 and the signal counts, NOISE_KIND's included)."""

    deal_ids: list[int]
    account_ids: list[int]
    probability: np.ndarray
    won: np.ndarray
    truth: dict[str, np.ndarray] = field(default_factory=dict)

    def rows(self, deal_ids) -> np.ndarray:
        """Indexes into this set of the given deal ids (KeyError for a deal not planted here)."""
        where = {deal_id: index for index, deal_id in enumerate(self.deal_ids)}
        return np.array([where[deal_id] for deal_id in deal_ids], dtype=int)

    def bayes_auc(self, deal_ids) -> float:
        """The AUC of the true probability on these deals: the best any model can do on that sample."""
        from sklearn.metrics import roc_auc_score

        rows = self.rows(deal_ids)
        return float(roc_auc_score(self.won[rows], self.probability[rows]))

    def true_features(self) -> tuple[np.ndarray, list[str]]:
        """The model's variables as a design matrix, one row per deal: lead source and plan one-hot (every value a
        column), log10 of employee_count, the Salesforce flag and the pricing-page and webinar counts."""
        columns, names = [], []
        for attribute, values in (("lead_source", LEAD_SOURCE), ("plan", PLAN)):
            for value in values:
                columns.append((self.truth[attribute] == value).astype(float))
                names.append(f"{attribute}={value}")
        columns.append(np.log10(self.truth["employee_count"]))
        names.append("log10 employee_count")
        columns.append(self.truth["salesforce"].astype(float))
        names.append("Salesforce")
        for kind in SIGNAL_EFFECTS:
            columns.append(self.truth[kind].astype(float))
            names.append(f"{kind} signals")
        return np.column_stack(columns), names


def true_log_odds(
    *, lead_source: np.ndarray, plan: np.ndarray, employee_count: np.ndarray, salesforce: np.ndarray, signals: dict
) -> np.ndarray:
    """The model's log-odds of a win (see the module docstring), vectorised over deals."""
    return (
        INTERCEPT
        + np.array([LEAD_SOURCE[v] for v in lead_source])
        + np.array([PLAN[v] for v in plan])
        + EMPLOYEES_PER_DECADE * np.log10(employee_count)
        + SALESFORCE * salesforce
        + sum(effect * signals[kind] for kind, effect in SIGNAL_EFFECTS.items())
    )


def planted_create(
    *, deals: int, seed: int = 7, noise_attributes: int = 4, noise_values: int = 4, today: dt.date | None = None
) -> Planted:
    """Write `deals` accounts, each with one closed deal and its signals, from the model of the module docstring.
    Refuses a seed whose accounts already exist (ValueError)."""
    if deals < 1 or noise_attributes < 0 or noise_values < 1:
        raise ValueError("Give at least one deal, zero or more noise attributes and at least one value for each.")
    if Account.objects.filter(external_id__startswith=prefix(seed)).exists():
        raise ValueError(f"Planted deals for seed {seed} already exist; use another seed.")
    today = today or timezone.now().date()
    rng = np.random.default_rng([seed, 17])
    n = deals

    lead_source = np.array(list(LEAD_SOURCE_SHARES))[rng.choice(6, n, p=list(LEAD_SOURCE_SHARES.values()))]
    plan = np.array(list(PLAN_SHARES))[rng.choice(4, n, p=list(PLAN_SHARES.values()))]
    employee_count = np.clip(np.exp(rng.normal(5.0, 1.5, n)), 1, 400_000).astype(np.int64)
    salesforce = (rng.random(n) < SALESFORCE_SHARE).astype(np.int64)
    other_tech = rng.random((n, len(NOISE_TECHNOLOGIES))) < 0.3
    noise = rng.integers(0, noise_values, (n, noise_attributes))
    industry = rng.integers(0, len(INDUSTRIES), n)
    country = rng.integers(0, len(COUNTRIES), n)
    counts = {kind: rng.binomial(trials, share, n) for kind, (trials, share) in SIGNAL_COUNTS.items()}
    counts[NOISE_KIND] = rng.binomial(*NOISE_COUNT, n)
    closed_ago = rng.integers(1, 731, n)
    cycle = rng.integers(10, 121, n)

    log_odds = true_log_odds(
        lead_source=lead_source, plan=plan, employee_count=employee_count, salesforce=salesforce, signals=counts
    )
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    won = rng.random(n) < probability

    p = prefix(seed)
    now = timezone.now()
    closed_on = [today - dt.timedelta(days=int(d)) for d in closed_ago]
    engaged_on = [c - dt.timedelta(days=int(d)) for c, d in zip(closed_on, cycle, strict=True)]
    tech_has = other_tech.tolist()
    noise_rows = noise.tolist()
    account_rows = []
    for i in range(n):
        technologies = (["Salesforce"] if salesforce[i] else []) + [
            t for t, has in zip(NOISE_TECHNOLOGIES, tech_has[i], strict=True) if has
        ]
        attributes = {"lead_source": str(lead_source[i]), "plan": str(plan[i])}
        for a, value in enumerate(noise_rows[i]):
            attributes[f"noise_{a + 1}"] = f"n{a + 1}_{value}"
        account_rows.append(
            (f"Planted {seed}-{i}", f"planted{seed}-{i}.example", f"{p}{i}", INDUSTRIES[industry[i]],
             int(employee_count[i]), COUNTRIES[country[i]], "", "", json.dumps(technologies), False,
             json.dumps(attributes), now, now)
        )  # fmt: skip

    with transaction.atomic():
        for start in range(0, n, BATCH):
            copy_rows(Account._meta.db_table, ACCOUNT_COLUMNS, account_rows[start : start + BATCH])
        account_ids = _ids(Account, p, n)
        deal_rows = [
            (account_ids[i], f"{p}d{i}", f"Planted deal {seed}-{i}", "", "Closed Won" if won[i] else "Closed Lost",
             True, bool(won[i]), engaged_on[i], closed_on[i], now, now)
            for i in range(n)
        ]  # fmt: skip
        for start in range(0, n, BATCH):
            copy_rows(Opportunity._meta.db_table, DEAL_COLUMNS, deal_rows[start : start + BATCH])
        deal_ids = _ids(Opportunity, f"{p}d", n)

        window = SIGNAL_WINDOW_DAYS * 86400
        engaged_at = [dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) for day in engaged_on]
        rows: list[tuple] = []
        for kind in (*SIGNAL_EFFECTS, NOISE_KIND):
            owners = np.repeat(np.arange(n), counts[kind])
            seconds_before = rng.integers(1, window + 1, len(owners))
            for i, before in zip(owners.tolist(), seconds_before.tolist(), strict=True):
                rows.append(
                    (account_ids[i], None, kind, "", engaged_at[i] - dt.timedelta(seconds=before), "planted", now)
                )
                if len(rows) >= BATCH:
                    copy_rows(Signal._meta.db_table, SIGNAL_COLUMNS, rows)
                    rows = []
        copy_rows(Signal._meta.db_table, SIGNAL_COLUMNS, rows)

    truth = {
        "lead_source": lead_source,
        "plan": plan,
        "employee_count": employee_count,
        "salesforce": salesforce,
        **counts,
    }
    return Planted(deal_ids=deal_ids, account_ids=account_ids, probability=probability, won=won, truth=truth)
