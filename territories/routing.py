"""Routing rules: which territory an account belongs to, and which member owns it. Plain values; no ORM.

Territory match
    1. Named accounts first: a territory that names the account takes it.
    2. Otherwise the territory's criteria (the ICP criterion language) must match: criteria sharing a
       group are alternatives (any one matches the group), and every group must match. A territory
       without criteria matches by name only.
    3. Of the matching territories the deepest in the hierarchy wins; then the lowest priority number;
       then the oldest (lowest id). Inactive territories are ignored.

Owner
    - An account whose owner is an active member of its territory keeps that owner, even when the
      owner is away or at capacity.
    - Otherwise eligible members are the territory's active reps who are not away today and are under
      their capacity (max_accounts; empty means no limit, 0 means no new accounts).
    - round_robin: a weighted rotation. Each member has a weight w (1 by default) and a running credit c
      (persisted between runs; c = the member's exact share so far minus the accounts it was given).
      For each account, with E the eligible members and W the sum of their weights:
          every member of E gains w / W credit (a member outside E gains nothing);
          the chosen one is, among the members of E with c > 0, the one whose credit would reach 1
          soonest, i.e. the least (1 - c) * W / w (earliest deadline first); ties go to the first
          after the last member served, in user id order;
          the chosen one's credit falls by 1.
      So count_i = n * w_i / W - c_i, and the earliest-deadline choice keeps -1 < c_i < 1: each member's
      count stays within one of its exact share n * w_i / W. With equal weights this is the plain
      rotation (the next eligible member after the last one served). A member who is not eligible
      (inactive, away, at capacity) gains no credit and is reset to a neutral credit of 0, its credit
      spread over the eligible members by weight (credits keep summing to 0): back from an absence, a
      member gets no catch-up burst.
    - load_balanced: the lowest owned / capacity ratio (a member without a limit counts against the
      largest limit in the territory, or 1 when nobody has one), ties to the member who has waited
      longest since their last assignment, then the lowest user id.
    - No eligible member: the account stays unassigned, in the territory's queue for its managers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.criteria import Criterion, all_groups_match

ROUND_ROBIN = "round_robin"
LOAD_BALANCED = "load_balanced"
NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class TerritoryRule:
    id: int
    name: str
    parent_id: int | None = None
    priority: int = 100
    criteria: tuple[Criterion, ...] = ()
    named_account_ids: frozenset[int] = frozenset()
    is_active: bool = True
    strategy: str = ROUND_ROBIN


def away_on(away_from: dt.date | None, away_until: dt.date | None, today: dt.date) -> bool:
    """Whether a member away from `away_from` to `away_until` (both included; either open) is away on `today`."""
    if away_from is None and away_until is None:
        return False
    return (away_from or dt.date.min) <= today <= (away_until or dt.date.max)


@dataclass
class Member:
    user_id: int
    max_accounts: int | None = None
    owned: int = 0
    away_from: dt.date | None = None
    away_until: dt.date | None = None
    is_active: bool = True
    is_rep: bool = True
    last_assigned_at: dt.datetime | None = None
    weight: float = 1.0
    credit: float = 0.0  # the weighted rotation's running credit (see the module's docstring)

    def is_away(self, today: dt.date) -> bool:
        return away_on(self.away_from, self.away_until, today)

    def is_eligible(self, today: dt.date) -> bool:
        under_capacity = self.max_accounts is None or self.owned < self.max_accounts
        return self.is_active and self.is_rep and not self.is_away(today) and under_capacity


def depths(territories: Iterable[TerritoryRule]) -> dict[int, int]:
    parents = {t.id: t.parent_id for t in territories}
    found: dict[int, int] = {}
    for tid in parents:
        depth, seen, current = 0, set(), parents.get(tid)
        while current is not None and current not in seen and current in parents:
            seen.add(current)
            depth += 1
            current = parents[current]
        found[tid] = depth
    return found


def _plain_text(value: Any) -> bool:
    """Text that equality compares as text (not a number written as text)."""
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


@dataclass
class Matcher:
    """Matches accounts to territories; built once per run."""

    territories: list[TerritoryRule]
    depth: dict[int, int] = field(init=False)
    named: dict[int, list[TerritoryRule]] = field(init=False)

    def __post_init__(self) -> None:
        self.territories = [t for t in self.territories if t.is_active]
        self.depth = depths(self.territories)
        self.named = {}
        for territory in self.territories:
            for account_id in territory.named_account_ids:
                self.named.setdefault(account_id, []).append(territory)
        self.ruled = sorted((t for t in self.territories if t.criteria), key=self._rank)
        self._build_index()

    def _rank(self, territory: TerritoryRule) -> tuple:
        return (-self.depth[territory.id], territory.priority, territory.id)

    def _build_index(self) -> None:
        """A shortcut for speed, not a rule: most territories require one of a few values of one attribute
        (e.g. `country eq ...`); an account need only be tried against the territories that accept its value
        and those that have no such requirement. The result is the same as trying every territory in order."""
        required: dict[int, dict[str, set]] = {}
        self.rest: dict[int, tuple[Criterion, ...]] = {}  # what a territory asks beyond its text `eq` requirements
        for territory in self.ruled:
            groups: dict[str, list[Criterion]] = {}
            for criterion in territory.criteria:
                groups.setdefault(criterion.group_name, []).append(criterion)
            rest: list[Criterion] = []
            for members in groups.values():
                attributes = {c.attribute for c in members}
                if len(attributes) == 1 and all(
                    c.operator == "eq" and _plain_text(c.value) and c.value.strip() for c in members
                ):
                    required.setdefault(territory.id, {})[attributes.pop()] = {c.value.strip().lower() for c in members}
                else:
                    rest.extend(members)
            self.rest[territory.id] = tuple(rest)
        usage: dict[str, int] = {}
        for per_attribute in required.values():
            for attribute in per_attribute:
                usage[attribute] = usage.get(attribute, 0) + 1
        self.required = required
        self.key = max(usage, key=lambda a: (usage[a], a)) if usage else None
        self.accepts = {tid: per.get(self.key) for tid, per in required.items() if self.key in per}
        self._by_value: dict[Any, list[TerritoryRule]] = {}

    def _candidates(self, values: Mapping[str, Any]) -> list[TerritoryRule]:
        if self.key is None:
            return self.ruled
        raw = values.get(self.key)
        if raw is not None and not isinstance(raw, str):
            return self.ruled  # lists and numbers compare in ways the shortcut does not model
        value = raw.strip().lower() if raw is not None else None
        found = self._by_value.get(value)
        if found is None:
            found = [
                t for t in self.ruled if t.id not in self.accepts or (value is not None and value in self.accepts[t.id])
            ]
            self._by_value[value] = found
        return found

    def _fits(self, territory: TerritoryRule, values: Mapping[str, Any]) -> bool:
        """Whether the account matches the territory's rules. Its text `eq` requirements are checked first, as a set
        look-up: when every one is met by a text value, only the rest of the rules remain to be read (a text value
        in the set is what `eq` accepts); any other value (a number, a list) is left to the full check."""
        all_text = True
        for attribute, allowed in self.required.get(territory.id, {}).items():
            raw = values.get(attribute)
            if raw is None:
                return False
            if isinstance(raw, str):
                if raw.strip().lower() not in allowed:
                    return False
            else:
                all_text = False
        if not all_text:
            return all_groups_match(territory.criteria, values)
        rest = self.rest[territory.id]
        return not rest or all_groups_match(rest, values)

    def match(self, account_id: int, values: Mapping[str, Any]) -> tuple[TerritoryRule | None, str]:
        named = self.named.get(account_id)
        if named:
            best = min(named, key=self._rank)
            return best, f"named account of {best.name}"
        for territory in self._candidates(values):  # best-ranked first: the first match wins
            if self._fits(territory, values):
                return territory, f"matches the rules of {territory.name}"
        return None, "no territory matches"


EPSILON = 1e-9  # credits are floats: a credit within this of 0 counts as 0


def _next_credits(members: list[Member], today: dt.date) -> tuple[dict[int, float], float, dict[int, Member]]:
    """The eligible members' credits once the next account is counted (before the chosen one's falls by 1), their
    total weight, and the eligible members by user id. A member who is not eligible hands its credit over."""
    eligible = {m.user_id: m for m in members if m.is_eligible(today)}
    total = sum(m.weight for m in eligible.values())
    if total <= 0:
        return {}, 0.0, eligible
    handed = sum(m.credit for m in members if m.is_rep and m.user_id not in eligible)
    credits = {uid: m.credit + (1 + handed) * m.weight / total for uid, m in eligible.items()}
    return credits, total, eligible


def pick_round_robin(members: list[Member], last_user_id: int | None, today: dt.date) -> Member | None:
    """The member the weighted rotation serves next (nothing changes: `rotate` records the choice)."""
    return _pick_round_robin(members, last_user_id, today)[0]


def _pick_round_robin(
    members: list[Member], last_user_id: int | None, today: dt.date
) -> tuple[Member | None, dict[int, float]]:
    """The member served next, and the credits once the account is counted (what `rotate` applies)."""
    credits, total, eligible = _next_credits(members, today)
    if not credits:
        return None, credits
    ids = sorted(credits)
    # Ties go round: the first member after the one served last (wrapping round), not always the first.
    start = next((i for i, uid in enumerate(ids) if last_user_id is not None and uid > last_user_id), 0)
    turn = {uid: (i - start) % len(ids) for i, uid in enumerate(ids)}
    candidates = [uid for uid in ids if credits[uid] > EPSILON] or ids
    chosen = min(candidates, key=lambda uid: (round((1 - credits[uid]) * total / eligible[uid].weight, 9), turn[uid]))
    return eligible[chosen], credits


def rotate(members: list[Member], chosen_user_id: int, today: dt.date, credits: dict[int, float] | None = None) -> None:
    """Record that the weighted rotation gave an account to `chosen_user_id` (see the module's docstring). `credits`:
    those the pick computed for this account, when nothing changed since (spares computing them again)."""
    if credits is None:
        credits, _, _ = _next_credits(members, today)
    if not credits:
        return
    for member in members:
        if member.user_id in credits:
            member.credit = credits[member.user_id] - (1 if member.user_id == chosen_user_id else 0)
        elif member.is_rep:
            member.credit = 0.0  # unavailable: back to neutral, its credit shared by those who are here


def pick_load_balanced(members: list[Member], today: dt.date) -> Member | None:
    eligible = [m for m in members if m.is_eligible(today)]
    if not eligible:
        return None
    limits = [m.max_accounts for m in members if m.max_accounts]
    default_limit = max(limits) if limits else 1
    return min(
        eligible,
        key=lambda m: (m.owned / (m.max_accounts or default_limit), m.last_assigned_at or NEVER, m.user_id),
    )


@dataclass
class Decision:
    territory_id: int | None
    owner_id: int | None
    rule: str
    # A round robin's credits once this account is counted, as the pick computed them (`commit` applies them).
    credits: dict[int, float] | None = field(default=None, repr=False, compare=False)


@dataclass
class Router:
    """Decides territory and owner account by account, keeping counts and rotations as it goes."""

    matcher: Matcher
    members: dict[int, list[Member]]  # territory id -> members
    rotation: dict[int, int | None]  # territory id -> user id last served by round robin
    today: dt.date
    now: dt.datetime
    served: int = 0
    rotated: set[int] = field(default_factory=set)  # territories whose rotation credits changed in this run

    def route(
        self, account_id: int, values: Mapping[str, Any], owner_id: int | None, territory_id: int | None
    ) -> Decision:
        territory, why = self.matcher.match(account_id, values)
        if territory is None:
            return Decision(None, None, why)
        members = self.members.get(territory.id, [])
        current = next((m for m in members if m.user_id == owner_id and m.is_active), None)
        if current is not None:
            if territory_id != territory.id:
                return Decision(territory.id, owner_id, f"{why}; kept owner")
            return Decision(territory.id, owner_id, "kept owner")
        credits = None
        if territory.strategy == LOAD_BALANCED:
            chosen = pick_load_balanced(members, self.today)
            how = "load balanced"
        else:
            chosen, credits = _pick_round_robin(members, self.rotation.get(territory.id), self.today)
            how = "round robin"
        if chosen is None:
            return Decision(territory.id, None, f"{why}; no eligible member: unassigned")
        return Decision(territory.id, chosen.user_id, f"{why}; {how}", credits)

    def route_within(self, territory_id: int, strategy: str) -> Decision:
        """A new owner for an account that stays in its territory (its owner left), by the territory's strategy."""
        members = self.members.get(territory_id, [])
        credits = None
        if strategy == LOAD_BALANCED:
            chosen, how = pick_load_balanced(members, self.today), "load balanced"
        else:
            chosen, credits = _pick_round_robin(members, self.rotation.get(territory_id), self.today)
            how = "round robin"
        if chosen is None:
            return Decision(territory_id, None, "no eligible member: unassigned")
        return Decision(territory_id, chosen.user_id, how, credits)

    def commit(self, decision: Decision, *, old_owner_id: int | None, old_territory_id: int | None) -> None:
        """Update the running counts after a decision is taken."""
        if (decision.owner_id, decision.territory_id) == (old_owner_id, old_territory_id):
            return
        for member in self.members.get(old_territory_id, []) if old_owner_id else []:
            if member.user_id == old_owner_id:
                member.owned = max(0, member.owned - 1)
        if decision.owner_id is None:
            return
        if decision.rule.endswith("round robin"):
            # The pick's credits hold unless the old owner's count just fell here (they may be eligible again).
            same = old_owner_id is not None and old_territory_id == decision.territory_id
            credits = None if same else decision.credits
            rotate(self.members.get(decision.territory_id, []), decision.owner_id, self.today, credits)
            self.rotated.add(decision.territory_id)
        for member in self.members.get(decision.territory_id, []):
            if member.user_id == decision.owner_id:
                member.owned += 1
                if decision.owner_id != old_owner_id:
                    # Assignments within one run are ordered too, so "longest since last" stays meaningful.
                    self.served += 1
                    member.last_assigned_at = self.now + dt.timedelta(microseconds=self.served)
        if decision.rule.endswith("round robin"):
            self.rotation[decision.territory_id] = decision.owner_id
