"""Territory balancing: who should own each account so that every rep carries a fair load. Plain numpy; no ORM.

What is optimised
    Every account that is not pinned goes to one available rep eligible for its territory group, or to nobody when
    no such rep has room. Pinned accounts (named accounts with their owner) stay with that owner, whatever else.
    Reps that are not available (inactive or away on the planning day) take nothing new and keep only their
    pinned accounts. Capacity (accounts) and Tier 1 capacity always hold.

    For each rep r with weight w_r and each measure k in (potential, count, Tier 1), load_k(r) is the sum of that
    measure over the accounts r would own. Within a component (below) the loads should be proportional to the
    weights: load_k(r) = w_r * L_k, where the level L_k is chosen by the optimiser. The objective is

        sum_k  W_k / S_k * sum_r |load_k(r) - w_r * L_k|          (balance, linearised: load - w L = d+ - d-)
      + sum over moved accounts of  penalty(account)               (disruption)
      + BIG * (accounts left without an owner)                     (only when capacity is short)

    where W_k are BalanceWeights.potential / count / tier1 and S_k = (component total of k) / (sum of weights),
    the load of a unit of weight, so the three measures are comparable. An account "moves" when it has a current
    owner who could keep it (available and eligible) and the plan gives it to someone else; accounts whose owner
    is away, inactive or not eligible move without penalty (those moves are forced).

    penalty(account) = (0.001 + 1.02 * disruption) * 2 * sum_k W_k * value_k(account) / S_k. One move changes the
    balance term by at most 2 * sum_k W_k * value_k / S_k, so at disruption 1 no move pays for itself: only what
    capacity, availability and eligibility force moves. At disruption 0 the small remainder only breaks ties in
    favour of current owners.

How 100,000 accounts over 500 reps stay small
    1. Decomposition: territory groups are joined when an available rep is eligible in both (union-find); each
       connected component is an independent MILP. Reps spanning groups couple them inside one component, where
       their load is counted once across all their groups.
    2. Aggregation: within a component, accounts are put in buckets by (group, potential band, Tier 1, current
       owner when that owner could keep them, else "none"). The potential bands split each group's accounts into
       POTENTIAL_BANDS bands of equal total potential, so the few big accounts get narrow bands. The integer
       variable x[b, r] is how many accounts of bucket b rep r receives (u[b]: how many stay without an owner),
       with each bucket's mean potential. Capacity, Tier 1 capacity and moves are exact in this form (a bucket
       has one Tier 1 flag and one current owner); only potential within a band is averaged.
    3. Dealing out: within a bucket accounts are sorted by potential (largest first) and dealt in interleaved
       order to the reps by their counts (each rep's k accounts at evenly spread positions), so every rep gets a
       representative slice of the band. The current owner's count is taken from accounts they already own,
       which is why a bucket has one current owner: keeping x[b, owner] of them is exactly what the MILP counted.

Time limit
    scipy.optimize.milp (HiGHS) gets the time left, shared among components by size. A component that hits its
    limit keeps HiGHS's best feasible answer (status "feasible"); one with no feasible answer in time falls back to
    a round robin that respects every limit (status "feasible", said in the message). Accounts an answer cut short
    left without an owner although some rep still has room are then dealt round robin too.

Shortfalls (status "infeasible", each in words in the message): named accounts over their owner's capacity, and
accounts no available eligible rep has room for; those stay without an owner (-1), the rest is still balanced.

greedy_round_robin is the baseline: a re-deal of every account that is not pinned, in account order, each to the
next available eligible rep of its group in turn (reps by index) who is under capacity (and Tier 1 capacity for a
Tier 1 account).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

POTENTIAL_BANDS = 6
MIP_GAP = 0.03  # stop within 3% of the proven bound
# Share of the time limit kept for building the problems and dealing out accounts.
SOLVE_SHARE = 0.85
DISPLAY = False
# The deviation of a rep's load from its share, in units of its share: the first 5% costs 1 per unit, the next 15%
# 3, the rest 9 (a convex, piecewise-linear stand-in for a square), so a shortfall is shared rather than dumped on
# one rep.
SEGMENT_WIDTHS = np.array([0.05, 0.15, np.inf])
SEGMENT_SLOPES = np.array([1.0, 3.0, 9.0])

OPTIMAL, FEASIBLE, INFEASIBLE = "optimal", "feasible", "infeasible"


@dataclass
class BalanceProblem:
    rep_ids: np.ndarray  # (m,) user ids of the reps that may own accounts
    capacity: np.ndarray  # (m,) float, max accounts (np.inf = no limit)
    tier1_capacity: np.ndarray  # (m,) float, max Tier 1 accounts (np.inf = no limit)
    available: np.ndarray  # (m,) bool: active and not away on the planning day
    weight: np.ndarray  # (m,) float > 0: a rep's share of its territory's load is proportional to it
    account_ids: np.ndarray  # (n,)
    potential: np.ndarray  # (n,) float spend potential (0 when unknown)
    tier1: np.ndarray  # (n,) bool
    current_owner: np.ndarray  # (n,) int: index into rep_ids, -1 when none / not one of these reps
    pinned_owner: np.ndarray  # (n,) int: index into rep_ids that must keep it (named account with its owner), -1
    eligible: list[np.ndarray]  # per territory group g: the rep indexes that may own its accounts
    group: np.ndarray  # (n,) int: each account's territory group (index into `eligible`)
    group_names: list[str] | None = None  # per group, for messages ("territory group 3" when absent)


@dataclass
class BalanceWeights:
    potential: float = 1.0  # weight of the spread of potential per rep (relative to each rep's weight share)
    count: float = 1.0  # weight of the spread of account count per rep
    tier1: float = 1.0  # weight of the spread of Tier 1 accounts per rep
    disruption: float = 0.0  # 0..1 "minimise disruption" slider (1 = move only what is forced)


@dataclass
class BalanceResult:
    owner: np.ndarray  # (n,) int index into rep_ids, -1 when no eligible rep could take it
    status: str  # "optimal" | "feasible" (time limit hit: best feasible answer) | "infeasible"
    seconds: float
    message: str  # in words, for the page
    components: int = 0  # independent problems solved
    variables: int = 0  # integer variables over all of them
    problems: list[str] = field(default_factory=list)  # each shortfall in words (empty unless infeasible)


# ---------------------------------------------------------------------------------------------------------------
# Shared preparation


@dataclass
class _Prepared:
    n: int
    m: int
    potential: np.ndarray
    tier1: np.ndarray
    group: np.ndarray
    weight: np.ndarray
    capacity: np.ndarray
    tier1_capacity: np.ndarray
    choices: list[np.ndarray]  # per group: available eligible reps, sorted
    pinned: np.ndarray  # (n,) bool
    free: np.ndarray  # (n,) bool: not pinned, to be placed
    keeper: np.ndarray  # (n,) int: current owner when they could keep the account, else -1
    room: np.ndarray  # (m,) accounts each rep can still take after its pinned ones (may be inf)
    tier1_room: np.ndarray
    problems: list[str]


def _group_name(problem: BalanceProblem, g: int) -> str:
    if problem.group_names and g < len(problem.group_names):
        return problem.group_names[g]
    return f"territory group {g + 1}"


def _rep_name(problem: BalanceProblem, r: int) -> str:
    return f"rep {problem.rep_ids[r]}"


def _prepare(problem: BalanceProblem) -> _Prepared:
    n, m = len(problem.account_ids), len(problem.rep_ids)
    potential = np.nan_to_num(np.asarray(problem.potential, dtype=float), nan=0.0).clip(min=0.0)
    tier1 = np.asarray(problem.tier1, dtype=bool)
    group = np.asarray(problem.group, dtype=np.int64)
    available = np.asarray(problem.available, dtype=bool)
    weight = np.asarray(problem.weight, dtype=float)
    if m and (weight <= 0).any():
        raise ValueError("Every rep's weight must be greater than 0.")
    capacity = np.asarray(problem.capacity, dtype=float)
    tier1_capacity = np.asarray(problem.tier1_capacity, dtype=float)
    choices = [np.unique(np.asarray(e, dtype=np.int64)) for e in problem.eligible]
    choices = [c[available[c]] if len(c) else c for c in choices]
    pinned_owner = np.asarray(problem.pinned_owner, dtype=np.int64)
    current = np.asarray(problem.current_owner, dtype=np.int64)
    pinned = pinned_owner >= 0
    free = ~pinned
    keeper = np.full(n, -1, dtype=np.int64)
    eligible_sets = [set(c.tolist()) for c in choices]
    for i in np.flatnonzero(free & (current >= 0)):
        if int(current[i]) in eligible_sets[group[i]]:
            keeper[i] = current[i]
    pinned_count = np.bincount(pinned_owner[pinned], minlength=m).astype(float)
    pinned_tier1 = np.bincount(pinned_owner[pinned & tier1], minlength=m).astype(float)
    room = capacity - pinned_count
    tier1_room = tier1_capacity - pinned_tier1
    problems = []
    for r in np.flatnonzero(room < 0):
        problems.append(f"{_rep_name(problem, r)} keeps {int(pinned_count[r]):,} named accounts, over a capacity "
                        f"of {int(capacity[r]):,}.")  # fmt: skip
    for r in np.flatnonzero(tier1_room < 0):
        problems.append(f"{_rep_name(problem, r)} keeps {int(pinned_tier1[r]):,} named Tier 1 accounts, over a "
                        f"Tier 1 capacity of {int(tier1_capacity[r]):,}.")  # fmt: skip
    return _Prepared(
        n=n, m=m, potential=potential, tier1=tier1, group=group, weight=weight, capacity=capacity,
        tier1_capacity=tier1_capacity, choices=choices, pinned=pinned, free=free, keeper=keeper,
        room=room.clip(min=0), tier1_room=tier1_room.clip(min=0), problems=problems,
    )  # fmt: skip


def _accounts(count: int) -> str:
    return f"{count:,} account{'' if count == 1 else 's'}"


def _shortfalls(problem: BalanceProblem, prep: _Prepared, owner: np.ndarray) -> list[str]:
    """Each group whose accounts could not all be placed, in words."""
    lines = []
    left = np.flatnonzero(prep.free & (owner < 0))
    if not len(left):
        return lines
    for g in np.unique(prep.group[left]):
        in_group = left[prep.group[left] == g]
        name, reps = _group_name(problem, int(g)), prep.choices[g]
        left_here = _accounts(len(in_group)) + f" in {name} " + ("has" if len(in_group) == 1 else "have")
        if not len(reps):
            lines.append(f"{left_here} no owner: no rep eligible for it is available.")
            continue
        tier1_left = int(prep.tier1[in_group].sum())
        lines.append(f"{left_here} no owner ({tier1_left:,} of them Tier 1): its {len(reps)} available "
                     f"rep{'s are' if len(reps) != 1 else ' is'} at capacity or Tier 1 capacity.")  # fmt: skip
    return lines


def _round_robin(prep: _Prepared, accounts: np.ndarray, owner: np.ndarray) -> None:
    """Deal `accounts` (in this order) round robin within their groups, respecting room; writes into `owner`."""
    count = np.zeros(prep.m)
    count_tier1 = np.zeros(prep.m)
    placed = np.flatnonzero(owner >= 0)
    np.add.at(count, owner[placed], 1)
    np.add.at(count_tier1, owner[placed], prep.tier1[placed])
    pinned_count = np.bincount(owner[prep.pinned & (owner >= 0)], minlength=prep.m)
    pinned_tier1 = np.bincount(owner[prep.pinned & prep.tier1 & (owner >= 0)], minlength=prep.m)
    limit = prep.room + pinned_count
    limit_tier1 = prep.tier1_room + pinned_tier1
    turn = [0] * len(prep.choices)
    for i in accounts.tolist():
        g = prep.group[i]
        reps = prep.choices[g]
        k = len(reps)
        is_tier1 = prep.tier1[i]
        for step in range(k):
            r = reps[(turn[g] + step) % k]
            if count[r] < limit[r] and (not is_tier1 or count_tier1[r] < limit_tier1[r]):
                owner[i] = r
                count[r] += 1
                count_tier1[r] += is_tier1
                turn[g] = (turn[g] + step + 1) % k
                break


def greedy_round_robin(problem: BalanceProblem) -> BalanceResult:
    """The baseline: pinned accounts stay; every other account, in order, goes to the next available eligible rep
    of its group in turn who is under capacity (and Tier 1 capacity for a Tier 1 account), or to nobody."""
    started = time.monotonic()
    prep = _prepare(problem)
    owner = np.where(prep.pinned, np.asarray(problem.pinned_owner, dtype=np.int64), -1)
    _round_robin(prep, np.flatnonzero(prep.free), owner)
    problems = prep.problems + _shortfalls(problem, prep, owner)
    status = INFEASIBLE if problems else OPTIMAL
    message = "Round robin: every account placed." if not problems else " ".join(problems)
    return BalanceResult(owner=owner, status=status, seconds=time.monotonic() - started, message=message,
                         problems=problems)  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# The optimiser


def _components(prep: _Prepared, groups: np.ndarray) -> list[tuple[list[int], np.ndarray]]:
    """Groups joined by shared available reps: [(groups, reps)] for each connected component."""
    parent = list(range(prep.m))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for g in groups:
        reps = prep.choices[g]
        for r in reps[1:]:
            ra, rb = find(int(reps[0])), find(int(r))
            if ra != rb:
                parent[rb] = ra
    by_root: dict[int, list[int]] = {}
    for g in groups:
        if len(prep.choices[g]):
            by_root.setdefault(find(int(prep.choices[g][0])), []).append(int(g))
    found = []
    for gs in by_root.values():
        reps = np.unique(np.concatenate([prep.choices[g] for g in gs]))
        found.append((sorted(gs), reps))
    return sorted(found, key=lambda c: c[0][0])


@dataclass
class _Bucket:
    accounts: np.ndarray  # sorted by potential, largest first
    group: int
    tier1: bool
    keeper: int  # current owner who could keep these accounts, or -1


def _buckets(prep: _Prepared, accounts: np.ndarray) -> list[_Bucket]:
    """Accounts of one component by (group, potential band, Tier 1, keeper)."""
    found = []
    for g in np.unique(prep.group[accounts]):
        mine = accounts[prep.group[accounts] == g]
        values = prep.potential[mine]
        order = np.argsort(-values, kind="stable")
        mine, values = mine[order], values[order]
        total = values.sum()
        if total > 0:
            # Bands of equal total potential: the band index of each account from its cumulative share.
            share = (np.cumsum(values) - values) / total
            band = np.minimum((share * POTENTIAL_BANDS).astype(np.int64), POTENTIAL_BANDS - 1)
        else:
            band = np.zeros(len(mine), dtype=np.int64)
        keys = np.stack([band, prep.tier1[mine].astype(np.int64), prep.keeper[mine]], axis=1)
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        sorter = np.argsort(inverse, kind="stable")  # keeps potential order within each bucket
        bounds = np.searchsorted(inverse[sorter], np.arange(len(unique) + 1))
        for j, (_band, is_tier1, keeper) in enumerate(unique):
            found.append(_Bucket(mine[sorter[bounds[j] : bounds[j + 1]]], int(g), bool(is_tier1), int(keeper)))
    return found


def _solve_component(
    prep: _Prepared, pinned_owner: np.ndarray, reps: np.ndarray, buckets: list[_Bucket],
    weights: BalanceWeights, seconds: float,
) -> tuple[list[np.ndarray] | None, str, int]:  # fmt: skip
    """The aggregated MILP of one component: per bucket, the count each rep (then "nobody", last) receives; the
    HiGHS status ("optimal" | "feasible"), or None when no feasible answer was found; the integer variables."""
    k = len(reps)
    local = {int(r): j for j, r in enumerate(reps)}
    sizes = np.array([len(b.accounts) for b in buckets], dtype=float)
    sums = np.array([prep.potential[b.accounts].sum() for b in buckets])
    means = sums / sizes
    peaks = np.array([prep.potential[b.accounts].max() for b in buckets])
    is_tier1 = np.array([b.tier1 for b in buckets], dtype=float)
    w = prep.weight[reps]
    # Loads already fixed by pinned accounts of these reps (whatever their group).
    held = prep.pinned & np.isin(pinned_owner, reps)
    held_rep = np.array([local[int(r)] for r in pinned_owner[held]], dtype=np.int64)
    pinned_load = np.zeros((3, k))
    np.add.at(pinned_load[0], held_rep, prep.potential[held])
    np.add.at(pinned_load[1], held_rep, 1.0)
    np.add.at(pinned_load[2], held_rep, prep.tier1[held])
    totals = pinned_load.sum(axis=1) + np.array([sums.sum(), sizes.sum(), (is_tier1 * sizes).sum()])
    unit = totals / w.sum()
    measure_weight = np.array([weights.potential, weights.count, weights.tier1], dtype=float)
    cost = np.where(unit > 0, measure_weight / np.where(unit > 0, unit, 1.0), 0.0)

    # x variables: (bucket, rep) pairs for the reps eligible in the bucket's group.
    pair_bucket, pair_rep = [], []
    for j, b in enumerate(buckets):
        cols = [local[int(r)] for r in prep.choices[b.group]]
        pair_bucket.extend([j] * len(cols))
        pair_rep.extend(cols)
    pair_bucket = np.array(pair_bucket, dtype=np.int64)
    pair_rep = np.array(pair_rep, dtype=np.int64)
    nx, nb = len(pair_bucket), len(buckets)
    # Column layout: x (nx) | u (nb) | d+ (3k) | d- (3k) | L (3)
    segments = len(SEGMENT_SLOPES)
    x0, u0 = 0, nx
    dp0 = nx + nb
    dm0 = dp0 + 3 * segments * k
    l0 = dm0 + 3 * segments * k
    nvar = l0 + 3

    keepers = np.array([b.keeper for b in buckets], dtype=np.int64)
    bucket_keeper_local = np.array([local.get(int(c), -1) if c >= 0 else -1 for c in keepers], dtype=np.int64)
    moved = (bucket_keeper_local[pair_bucket] >= 0) & (bucket_keeper_local[pair_bucket] != pair_rep)
    move_bound = 2 * SEGMENT_SLOPES[-1] * (cost[0] * peaks + cost[1] + cost[2] * is_tier1)
    penalty = (0.001 + 1.02 * min(max(weights.disruption, 0.0), 1.0)) * move_bound
    c = np.zeros(nvar)
    c[x0:u0] = np.where(moved, penalty[pair_bucket], 0.0)
    # Leaving an account without an owner must cost more than anything placing it could cost or save.
    big = 10 * (float(move_bound.max(initial=0.0)) + float(penalty.max(initial=0.0))) + 1.0
    c[u0:dp0] = big
    slopes = np.outer(np.where(unit > 0, measure_weight, 0.0), SEGMENT_SLOPES)  # (measure, segment)
    c[dp0:dm0] = np.repeat(slopes.ravel(), k)
    c[dm0:l0] = np.repeat(slopes.ravel(), k)

    rows, cols, vals, lower, upper = [], [], [], [], []
    row = 0
    # Every account of a bucket goes to one rep or to nobody.
    rows.append(pair_bucket)
    cols.append(x0 + np.arange(nx))
    vals.append(np.ones(nx))
    rows.append(np.arange(nb))
    cols.append(u0 + np.arange(nb))
    vals.append(np.ones(nb))
    lower.append(sizes)
    upper.append(sizes)
    row += nb
    # Capacity and Tier 1 capacity, after the pinned accounts.
    room = prep.room[reps]
    rows.append(row + pair_rep)
    cols.append(x0 + np.arange(nx))
    vals.append(np.ones(nx))
    lower.append(np.zeros(k))
    upper.append(room)
    row += k
    tier1_pairs = np.flatnonzero(is_tier1[pair_bucket] > 0)
    rows.append(row + pair_rep[tier1_pairs])
    cols.append(x0 + tier1_pairs)
    vals.append(np.ones(len(tier1_pairs)))
    lower.append(np.zeros(k))
    upper.append(prep.tier1_room[reps])
    row += k
    # Balance: sum of x * value - w * L - d+ + d- = - pinned load, per measure and rep.
    # In units of a unit of weight's load, so every coefficient is about 1 whatever the currency.
    scale = np.where(unit > 0, unit, 1.0)
    per_pair = [means[pair_bucket] / scale[0], np.ones(nx) / scale[1], is_tier1[pair_bucket] / scale[2]]
    for measure in range(3):
        base = row + measure * k
        rows += [base + pair_rep, base + np.arange(k)]
        cols += [x0 + np.arange(nx), np.full(k, l0 + measure)]
        vals += [per_pair[measure], -w]
        for segment in range(segments):
            offset = (measure * segments + segment) * k
            rows += [base + np.arange(k), base + np.arange(k)]
            cols += [dp0 + offset + np.arange(k), dm0 + offset + np.arange(k)]
            vals += [-np.ones(k), np.ones(k)]
        lower.append(-pinned_load[measure] / scale[measure])
        upper.append(-pinned_load[measure] / scale[measure])
    row += 3 * k
    matrix = sparse.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row, nvar))
    integrality = np.zeros(nvar)
    integrality[x0:dp0] = 1
    ub = np.full(nvar, np.inf)
    ub[x0:u0] = sizes[pair_bucket]
    ub[u0:dp0] = sizes
    widths = np.tile(np.repeat(SEGMENT_WIDTHS, k) * np.tile(w, segments), 3)
    ub[dp0:dm0] = widths
    ub[dm0:l0] = widths
    result = milp(
        c, constraints=LinearConstraint(matrix, np.concatenate(lower), np.concatenate(upper)),
        integrality=integrality, bounds=Bounds(np.zeros(nvar), ub),
        options={"time_limit": max(seconds, 0.05), "mip_rel_gap": MIP_GAP, "presolve": True, "disp": DISPLAY},
    )  # fmt: skip
    if result.x is None:
        return None, FEASIBLE, nx + nb
    solved = np.rint(result.x).astype(np.int64)
    given = np.zeros((nb, k + 1), dtype=np.int64)
    np.add.at(given, (pair_bucket, pair_rep), solved[x0:u0])
    given[:, k] = np.maximum(sizes.astype(np.int64) - given[:, :k].sum(axis=1), 0)
    counts = list(given)
    return counts, (OPTIMAL if result.status == 0 else FEASIBLE), nx + nb


def _deal(accounts: np.ndarray, given: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Owners for `accounts` (largest potential first): target t gets given[t] of them at evenly spread positions.
    Any of them may be the current owner's share: every account of a bucket has the same current owner."""
    slots = np.concatenate([(np.arange(g) + 0.5) / g for g in given if g])
    who = np.concatenate([np.full(g, t) for t, g in zip(targets, given, strict=True) if g])
    order = np.lexsort((who, slots))
    return who[order][: len(accounts)]


def balance(problem: BalanceProblem, weights: BalanceWeights, *, time_limit: float = 60.0) -> BalanceResult:
    """Balanced owners for every account (see the module docstring for the formulation)."""
    started = time.monotonic()
    deadline = started + time_limit * SOLVE_SHARE
    prep = _prepare(problem)
    pinned_owner = np.asarray(problem.pinned_owner, dtype=np.int64)
    owner = np.where(prep.pinned, pinned_owner, -1)
    free = np.flatnonzero(prep.free)
    groups = np.unique(prep.group[free]) if len(free) else np.array([], dtype=np.int64)
    components = _components(prep, groups)
    planned = []
    for gs, reps in components:
        accounts = free[np.isin(prep.group[free], gs)]
        planned.append((reps, _buckets(prep, accounts), accounts))
    sizes = [sum(len(prep.choices[b.group]) + 1 for b in bs) for _, bs, _ in planned]
    statuses, fell_back, variables = [], 0, 0
    for index, (reps, buckets, accounts) in enumerate(planned):
        left = max(deadline - time.monotonic(), 0.0)
        share = left * sizes[index] / max(sum(sizes[index:]), 1)
        counts, status, used = _solve_component(prep, pinned_owner, reps, buckets, weights, share)
        variables += used
        if counts is None:
            fell_back += 1
            _round_robin(prep, accounts, owner)
            statuses.append(FEASIBLE)
            continue
        statuses.append(status)
        targets = np.append(reps, -1)
        for bucket, given in zip(buckets, counts, strict=True):
            owner[bucket.accounts] = _deal(bucket.accounts, given, targets)
    # An answer cut short by the time limit may leave accounts out that still fit somewhere: deal them round robin.
    left = np.flatnonzero(prep.free & (owner < 0))
    if len(left):
        _round_robin(prep, left, owner)
    problems = prep.problems + _shortfalls(problem, prep, owner)
    seconds = time.monotonic() - started
    if problems:
        status, message = INFEASIBLE, "Not every limit can be met. " + " ".join(problems)
    elif fell_back:
        status = FEASIBLE
        message = (f"No optimised answer within the {time_limit:g} s limit for {fell_back} of {len(components)} "
                   "independent parts: those accounts are dealt round robin, within every limit.")  # fmt: skip
    elif FEASIBLE in statuses:
        status, message = FEASIBLE, f"Best answer found within the {time_limit:g} s limit (not proven the best)."
    else:
        status, message = OPTIMAL, "Balanced: the best answer for these settings."
    return BalanceResult(owner=owner, status=status, seconds=seconds, message=message, components=len(components),
                         variables=variables, problems=problems)  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Measuring a plan


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: sum_ij |x_i - x_j| / (2 n^2 mean); 0 when all equal (or none)."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * total) - (n + 1) / n)


def max_min(values: np.ndarray) -> float:
    """max / min; inf when the smallest is 0 and the largest is not; 1 when there are none."""
    x = np.asarray(values, dtype=float)
    if not len(x) or x.max() <= 0:
        return 1.0
    return float(x.max() / x.min()) if x.min() > 0 else math.inf


def plan_metrics(problem: BalanceProblem, owner: np.ndarray) -> dict:
    """Per rep (arrays indexed like rep_ids): count, potential, tier1, moves_in, moves_out. Totals:
    accounts_moved (current owner set and different from the plan's, unassigned included), unassigned. Spread over
    the available reps that may own at least one of the accounts (a rep with nothing in play cannot be balanced),
    each rep's load divided by its weight: potential_max_min, potential_gini, count_max_min,
    count_gini, tier1_max_min, tier1_gini."""
    m = len(problem.rep_ids)
    owner = np.asarray(owner, dtype=np.int64)
    current = np.asarray(problem.current_owner, dtype=np.int64)
    potential = np.nan_to_num(np.asarray(problem.potential, dtype=float), nan=0.0)
    tier1 = np.asarray(problem.tier1, dtype=bool)
    placed = owner >= 0
    count = np.bincount(owner[placed], minlength=m)
    load_potential = np.bincount(owner[placed], weights=potential[placed], minlength=m)
    load_tier1 = np.bincount(owner[placed & tier1], minlength=m)
    moved = (current >= 0) & (owner != current)
    moves_in = np.bincount(owner[moved & placed], minlength=m)
    moves_out = np.bincount(current[moved], minlength=m)
    in_play = np.zeros(m, dtype=bool)
    for group in np.unique(np.asarray(problem.group, dtype=np.int64)):
        in_play[np.asarray(problem.eligible[int(group)], dtype=np.int64)] = True
    reps = np.flatnonzero(np.asarray(problem.available, dtype=bool) & in_play)
    w = np.asarray(problem.weight, dtype=float)[reps]
    metrics = {
        "count": count, "potential": load_potential, "tier1": load_tier1, "moves_in": moves_in,
        "moves_out": moves_out, "accounts_moved": int(moved.sum()), "unassigned": int((~placed).sum()),
    }  # fmt: skip
    for name, load in (("potential", load_potential), ("count", count), ("tier1", load_tier1)):
        per_weight = load[reps] / w
        metrics[f"{name}_max_min"] = max_min(per_weight)
        metrics[f"{name}_gini"] = gini(per_weight)
    return metrics
