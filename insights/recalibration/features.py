"""The candidate features: everything the deals' accounts carry, as criteria and signal rules the product can score.

Each candidate is something the scoring model can say, so that the regression's terms become points one for one:
- a **text** attribute (an account field or any `attributes` key whose values are words): one `eq` criterion per
  frequent value (at least MIN_SUPPORT deals, the MAX_LEVELS most frequent), all in the attribute's group, so an
  account scores the one value it has; when some deals have a rarer value and some have none, one more criterion
  `exists` in a group of its own ("Lead source (any value)") tells a rare value from no value. A missing value
  matches none of them: it is the reference every point is measured from;
- a **number** with many values: bands cut at its quantiles (readable cuts, `lte` / `between` / `gte`), one group;
  with at most MAX_NUMBER_LEVELS distinct values it is read as levels (`eq 3`), like text;
- a **yes/no**: `eq true` and `eq false`, one group;
- a **list** (technologies): `contains X` for each frequent element, each its own group (an account may hold many);
- a **signal kind** present in the deals' accounts' history, whether or not the active model has a rule for it: its
  signals' decayed sum as of each deal's moment, with the half-life and cap (in signals) among HALF_LIVES x CAPS that
  follow wins most closely on the training deals (|correlation|); the count is the half-life NO_DECAY, and is
  preferred when it follows wins within 5% as closely (COUNT_PREFERENCE): a count reads the same whenever the
  account is scored, while a decayed sum taught on deals of the past ranks them by how long ago they were.
What is left out is listed with its reason: identifiers, no values, one value for every deal, values too rare, a
column equal to an earlier one, a signal kind that comes with fewer wins (signal rules only add points).

Columns are computed by the rule the scoring applies (`accounts.criteria.criterion_matches` once per distinct value;
numbers by `as_number` and the same inclusive bounds), so a candidate's column is exactly where its criterion matches.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from accounts.criteria import (
    ACCOUNT_FIELDS,
    BOOLEAN,
    LIST,
    NUMBER,
    TEXT,
    as_number,
    attribute_label,
    criterion_from_dict,
    criterion_matches,
    is_missing,
    normal,
)
from segmentation.definition import signal_kind_label

from .maths import band_criteria, criterion_text

IDENTIFIERS = ("name", "domain", "external_id")
MIN_SUPPORT = 30  # deals a value, band or element must cover to be tried
MAX_LEVELS = 30  # the most frequent values of a text attribute tried, the rest read as "any other value"
MAX_NUMBER_LEVELS = 12  # a number with this many distinct values or fewer is read as levels
NUMBER_BANDS = 6
NO_DECAY = 36_500.0  # a half-life of a hundred years: the signals are counted
HALF_LIVES = (7.0, 30.0, 90.0, 365.0, NO_DECAY)
CAPS = (1.0, 3.0, 10.0, None)  # in signals (the cap on the kind's decayed sum); None: the largest seen
COUNT_PREFERENCE = 0.95  # a count within 5% of the best decayed sum's correlation is chosen: it does not age
SECONDS_PER_DAY = 86_400.0


@dataclass
class Candidate:
    """One column of the design: a criterion (0/1) or a signal kind's capped decayed sum."""

    name: str  # a stable key: "industry=software", "employee_count#2", "signal:demo"
    label: str  # in words
    kind: str  # "criterion" or "signal"
    column: np.ndarray
    criterion: dict | None = None  # {group, attribute, operator, value}
    signal: dict | None = None  # {kind, half_life_days, cap}
    attribute: str = ""
    complete: bool = False  # its group covers every account read (every one matches exactly one of the group's)


@dataclass
class Candidates:
    items: list[Candidate] = field(default_factory=list)
    left_out: list[dict] = field(default_factory=list)

    def matrix(self, rows: np.ndarray | None = None) -> np.ndarray:
        if not self.items:
            return np.zeros((0 if rows is None else len(rows), 0))
        stacked = np.column_stack([c.column for c in self.items])
        return stacked if rows is None else stacked[rows]


def _leave(found: Candidates, name: str, label: str, reason: str) -> None:
    found.left_out.append({"name": name, "label": label, "reason": reason})


def attribute_names(values: Sequence[dict]) -> list[str]:
    """Every attribute the accounts carry: the account fields, then each `attributes` key, in order of first sight."""
    names = {name: None for name in ACCOUNT_FIELDS}
    for row in values:
        for key in row:
            names.setdefault(key, None)
    return list(names)


def attribute_kind(name: str, present: list) -> str:
    """The type an attribute is read as: a field's own type, else what its values look like."""
    if name in ACCOUNT_FIELDS:
        return ACCOUNT_FIELDS[name]
    if any(isinstance(v, list | tuple) for v in present):
        return LIST
    if all(isinstance(v, bool) or (isinstance(v, str) and v.strip().lower() in ("true", "false")) for v in present):
        return BOOLEAN
    numbers = sum(1 for v in present if as_number(v) is not None)
    if numbers >= 0.95 * len(present):
        return NUMBER
    return TEXT


def _key(value) -> object:
    return tuple(normal(v) for v in value) if isinstance(value, list | tuple) else normal(value)


def _match_column(criterion: dict, values: list) -> np.ndarray:
    """Where `criterion` matches, by the scoring's own rule, computed once per distinct value."""
    rule = criterion_from_dict({**criterion, "points": 0})
    attribute = rule.attribute
    seen: dict[object, bool] = {}
    out = np.zeros(len(values), dtype=bool)
    for index, value in enumerate(values):
        try:  # keyed by type too: True, 1 and 1.0 are one key to a dict, not to a criterion
            key = (value.__class__, value)
            hit = seen.get(key)
        except TypeError:  # a list or a dict: keyed by its elements
            key = repr(value)
            hit = seen.get(key)
        if hit is None:
            hit = seen[key] = criterion_matches(rule, {attribute: value})
        out[index] = hit
    return out


def _criterion(group: str, attribute: str, operator: str, value) -> dict:
    return {"group": group, "attribute": attribute, "operator": operator, "value": value}


def criteria_definitions(values: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """From the deals' account values (one dict per deal): the candidate criteria, each {group, attribute, operator,
    value, complete}, and what was left out [{name, label, reason}]."""
    proposed: list[dict] = []
    left: list[dict] = []
    n = len(values)
    for name in attribute_names(values):
        label = attribute_label(name)
        column = [row.get(name) for row in values]
        present = [v for v in column if not is_missing(v)]
        if name in IDENTIFIERS:
            left.append({"name": name, "label": label, "reason": "an identifier: it names one account"})
            continue
        if not present:
            left.append({"name": name, "label": label, "reason": "no deal's account has a value"})
            continue
        missing = n - len(present)
        kind = attribute_kind(name, present)
        if kind == NUMBER:
            numbers = [as_number(v) for v in present]
            distinct = {x for x in numbers if x is not None}
            if len(distinct) > MAX_NUMBER_LEVELS:
                bands = band_criteria(name, [x for x in numbers if x is not None], parts=NUMBER_BANDS)
                if not bands:
                    left.append({"name": name, "label": label, "reason": "too few distinct numbers to cut bands"})
                    continue
                for band in bands:
                    proposed.append(
                        {**_criterion(label, name, band["operator"], band["value"]), "complete": not missing}
                    )
                continue
            kind = TEXT  # few distinct numbers: each is a level
        if kind == LIST:
            elements: Counter = Counter()
            spelling: dict[str, Counter] = {}
            for v in present:
                for item in {normal(i): i for i in v if not is_missing(i)}.items():
                    elements[item[0]] += 1
                    spelling.setdefault(item[0], Counter())[str(item[1]).strip()] += 1
            frequent = [e for e, count in elements.most_common(MAX_LEVELS) if MIN_SUPPORT <= count <= n - MIN_SUPPORT]
            if not frequent:
                left.append(
                    {
                        "name": name,
                        "label": label,
                        "reason": f"no element is held by {MIN_SUPPORT} deals' accounts and missing from "
                        f"{MIN_SUPPORT} others",
                    }
                )
                continue
            for element in frequent:
                value = spelling[element].most_common(1)[0][0]
                proposed.append({**_criterion(f"{label}: {value}", name, "contains", value), "complete": False})
            rare = len(elements) - len(frequent)
            if rare:
                left.append(
                    {
                        "name": f"{name}:rare",
                        "label": f"{label} (rarer elements)",
                        "reason": f"{rare:,} elements held by too few deals' accounts",
                    }
                )
            continue
        if kind == BOOLEAN:
            levels = Counter(str(v).strip().lower() in ("true", "1") if not isinstance(v, bool) else v for v in present)
            options = [(flag, count) for flag, count in levels.items() if count >= MIN_SUPPORT]
            if len(options) < 2 and not (options and missing >= MIN_SUPPORT):
                left.append({"name": name, "label": label, "reason": "the same answer for almost every deal"})
                continue
            for flag, _count in sorted(options, key=lambda o: not o[0]):
                proposed.append({**_criterion(label, name, "eq", flag), "complete": not missing and len(options) == 2})
            continue
        # text (and numbers with few values)
        spellings: dict[object, Counter] = {}
        for v in present:
            spellings.setdefault(_key(v), Counter())[v.strip() if isinstance(v, str) else v] += 1
        ranked = sorted(spellings.items(), key=lambda item: (-sum(item[1].values()), str(item[0])))
        frequent = [(k, c) for k, c in ranked[:MAX_LEVELS] if sum(c.values()) >= MIN_SUPPORT]
        if not frequent:
            left.append(
                {"name": name, "label": label, "reason": f"no value is shared by {MIN_SUPPORT} deals' accounts"}
            )
            continue
        covered = sum(sum(c.values()) for _k, c in frequent)
        other = len(present) - covered
        for _k, counts in frequent:
            value = counts.most_common(1)[0][0]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            proposed.append({**_criterion(label, name, "eq", value), "complete": not missing and not other})
        if other:
            left.append(
                {
                    "name": f"{name}:other",
                    "label": f"{label} (rarer values)",
                    "reason": f"{len(ranked) - len(frequent):,} values shared by too few deals' accounts"
                    f" ({other:,} deals): read as “any other value”",
                }
            )
        if other >= MIN_SUPPORT and missing >= MIN_SUPPORT:
            proposed.append({**_criterion(f"{label} (any value)", name, "exists", None), "complete": False})
    return proposed, left


def criteria_columns(definitions: Sequence[dict], values: Sequence[dict]) -> list[np.ndarray]:
    """One 0/1 column per definition over `values` (one dict per row), by the scoring's rule."""
    columns = []
    for definition in definitions:
        attribute = definition["attribute"]
        column = [row.get(attribute) for row in values]
        if definition["operator"] in ("lte", "gte", "between"):
            numbers = np.array([np.nan if (x := as_number(v)) is None else x for v in column], dtype=float)
            with np.errstate(invalid="ignore"):
                if definition["operator"] == "lte":
                    hit = numbers <= float(definition["value"])
                elif definition["operator"] == "gte":
                    hit = numbers >= float(definition["value"])
                else:
                    low, high = definition["value"]
                    hit = (numbers >= float(low)) & (numbers <= float(high))
            columns.append(hit.astype(float))
        else:
            columns.append(_match_column(definition, column).astype(float))
    return columns


# --- Signals -----------------------------------------------------------------------------------------------------


@dataclass
class SignalHistory:
    """The signals of the accounts read, as arrays: account row, kind index and time (seconds)."""

    kinds: list[str]
    account: np.ndarray
    kind: np.ndarray
    at: np.ndarray


def decayed_sums(
    history: SignalHistory, row_account: np.ndarray, moments: np.ndarray, *, half_life: float, lookback_days: float
) -> np.ndarray:
    """rows x kinds: each row's signals of each kind decayed to its moment, from those strictly before it and within
    the lookback (a row is an account at a moment; an account may have several rows)."""
    rows, kinds = len(row_account), len(history.kinds)
    out = np.zeros(rows * kinds)
    if not rows or not len(history.account):
        return out.reshape(rows, kinds)
    order = np.argsort(row_account, kind="stable")
    sorted_accounts = row_account[order]
    starts = np.searchsorted(sorted_accounts, history.account, side="left")
    ends = np.searchsorted(sorted_accounts, history.account, side="right")
    counts = ends - starts
    signal_index = np.repeat(np.arange(len(history.account)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    row = order[np.repeat(starts, counts) + offsets]
    age = (moments[row] - history.at[signal_index]) / SECONDS_PER_DAY
    keep = (age > 0) & (age <= lookback_days) & (age / half_life <= 1000.0)
    weights = 0.5 ** (age[keep] / half_life)
    cells = row[keep] * kinds + history.kind[signal_index[keep]]
    out += np.bincount(cells, weights=weights, minlength=rows * kinds)
    return out.reshape(rows, kinds)


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    sx = x.std()
    if sx == 0:
        return 0.0
    return float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * y.std()))


def signal_definitions(
    history: SignalHistory,
    row_account: np.ndarray,
    moments: np.ndarray,
    won: np.ndarray,
    train: np.ndarray,
    *,
    lookback_days: float,
) -> tuple[list[dict], list[dict]]:
    """Per signal kind present: the half-life and cap that follow wins most closely on the training rows, as
    {kind, half_life_days, cap}; kinds left out with their reason."""
    chosen, left = [], []
    if not history.kinds:
        return chosen, left
    sums = {
        h: decayed_sums(history, row_account, moments, half_life=h, lookback_days=lookback_days) for h in HALF_LIVES
    }
    y = won[train].astype(float)
    for index, kind in enumerate(history.kinds):
        label = signal_kind_label(kind)
        best = None
        best_count: dict[int, tuple] = {}
        for half_life, matrix in sums.items():
            raw = matrix[:, index]
            top = float(raw[train].max()) if len(train) else 0.0
            for cap in CAPS:
                limit = top if cap is None else min(cap, top)
                if limit <= 0:
                    continue
                column = np.minimum(raw, limit)
                score = _corr(column[train], y)
                if best is None or abs(score) > abs(best[0]) + 1e-9:
                    best = (score, half_life, limit)
                if half_life == NO_DECAY and (index not in best_count or abs(score) > abs(best_count[index][0])):
                    best_count[index] = (score, half_life, limit)
        counted = best_count.get(index)
        if best is not None and counted is not None and abs(counted[0]) >= COUNT_PREFERENCE * abs(best[0]):
            best = counted  # as good, near enough: counts score the same whenever the account is scored
        active = int((sums[NO_DECAY][:, index][train] > 0).sum())
        if best is None or active < MIN_SUPPORT:
            left.append(
                {
                    "name": f"signal:{kind}",
                    "label": label,
                    "reason": f"fewer than {MIN_SUPPORT} deals' accounts had one before the deal",
                }
            )
            continue
        if best[0] <= 0:
            left.append(
                {
                    "name": f"signal:{kind}",
                    "label": label,
                    "reason": "comes with fewer wins, and signal rules only add points",
                }
            )
            continue
        chosen.append({"kind": kind, "half_life_days": best[1], "cap": best[2]})
    return chosen, left


def signal_columns(
    definitions: Sequence[dict],
    history: SignalHistory,
    row_account: np.ndarray,
    moments: np.ndarray,
    *,
    lookback_days: float,
) -> list[np.ndarray]:
    """One column per chosen signal kind: its capped decayed sum at each row's moment."""
    cache: dict[float, np.ndarray] = {}
    where = {kind: i for i, kind in enumerate(history.kinds)}
    columns = []
    for definition in definitions:
        half_life = definition["half_life_days"]
        if half_life not in cache:
            cache[half_life] = decayed_sums(
                history, row_account, moments, half_life=half_life, lookback_days=lookback_days
            )
        raw = (
            cache[half_life][:, where[definition["kind"]]]
            if definition["kind"] in where
            else np.zeros(len(row_account))
        )
        columns.append(np.minimum(raw, definition["cap"]))
    return columns


def signal_label(definition: dict) -> str:
    half_life = definition["half_life_days"]
    decay = "counted" if half_life >= NO_DECAY else f"half-life {half_life:g} days"
    return f"{signal_kind_label(definition['kind'])} ({decay}, up to {definition['cap']:g})"


def build_candidates(
    criteria: Sequence[dict],
    signals: Sequence[dict],
    values: Sequence[dict],
    history: SignalHistory,
    row_account: np.ndarray,
    moments: np.ndarray,
    *,
    lookback_days: float,
    dedupe: bool = True,
) -> Candidates:
    """The candidates' columns over rows (an account's values and a moment each). With `dedupe`, a column equal to
    an earlier one or the same for every row is left out, with its reason."""
    found = Candidates()
    seen: dict[bytes, str] = {}
    for definition, column in zip(criteria, criteria_columns(criteria, values), strict=True):
        plain = {k: definition[k] for k in ("group", "attribute", "operator", "value")}
        label = criterion_text(plain)
        name = f"{definition['attribute']}:{definition['operator']}:{definition['value']}"
        candidate = Candidate(
            name=name,
            label=label,
            kind="criterion",
            column=column,
            criterion=plain,
            attribute=definition["attribute"],
            complete=bool(definition.get("complete")),
        )
        if dedupe and not _keep(found, seen, candidate):
            continue
        found.items.append(candidate)
    for definition, column in zip(
        signals, signal_columns(signals, history, row_account, moments, lookback_days=lookback_days), strict=True
    ):
        candidate = Candidate(
            name=f"signal:{definition['kind']}",
            label=signal_label(definition),
            kind="signal",
            column=column,
            signal=dict(definition),
        )
        if dedupe and not _keep(found, seen, candidate):
            continue
        found.items.append(candidate)
    return found


def _keep(found: Candidates, seen: dict[bytes, str], candidate: Candidate) -> bool:
    column = candidate.column
    if len(column) and column.min() == column.max():
        _leave(found, candidate.name, candidate.label, "the same for every deal")
        return False
    fingerprint = column.tobytes()
    if fingerprint in seen:
        _leave(found, candidate.name, candidate.label, f"says the same as “{seen[fingerprint]}” for every deal")
        return False
    seen[fingerprint] = candidate.label
    return True


def moments_of(days: Sequence[dt.date]) -> np.ndarray:
    """00:00 UTC of each day, in seconds."""
    return np.array([dt.datetime.combine(d, dt.time.min, tzinfo=dt.UTC).timestamp() for d in days], dtype=float)


def finite(value: float) -> bool:
    return value is not None and math.isfinite(value)
