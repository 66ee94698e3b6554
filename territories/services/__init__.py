"""Writes about territories and who works them, named <entity>_<action>:
- assignment.py: routing accounts to a territory and an owner (plan, apply as a job, the routing queue, manual
  reassignment, the accounts in no territory);
- memberships.py: members, their capacities and away dates (each change queues a Tier 1 capacity check);
- previews.py: assignment previews prepared as a job, stored, read page by page;
- departures.py: a departing rep's accounts handed over by the territory's rotation (plan, apply as a job);
- carving.py: territories themselves (rules, named accounts, hierarchy, strategy), each change audited;
- people.py: users created with a role and placed in territories.
"""

from .assignment import (
    CHUNK,
    ApplyResult,
    Move,
    Plan,
    account_reassign,
    assignment_apply,
    assignment_job_start,
    assignment_plan,
    assignment_plan_all,
    route_new_accounts,
    route_queued,
    unrouted_account_ids,
    unrouted_route,
    unrouted_send,
)
from .carving import territory_create, territory_name_accounts, territory_problems, territory_update
from .departures import (
    DeparturePlan,
    departure_reason,
    membership_departure_apply,
    membership_departure_plan,
    membership_departure_start,
)
from .memberships import (
    CAPACITY_TASK,
    capacity_changed,
    membership_create,
    membership_delete,
    membership_ensure,
    membership_update,
)
from .people import user_create
from .previews import (
    PlannedMoves,
    assignment_preview_compute,
    assignment_preview_latest,
    assignment_preview_start,
    assignment_previews_discard,
)

__all__ = [
    "CHUNK",
    "CAPACITY_TASK",
    "ApplyResult",
    "DeparturePlan",
    "Move",
    "Plan",
    "PlannedMoves",
    "account_reassign",
    "assignment_apply",
    "assignment_job_start",
    "assignment_plan",
    "assignment_plan_all",
    "assignment_preview_compute",
    "assignment_preview_latest",
    "assignment_preview_start",
    "assignment_previews_discard",
    "capacity_changed",
    "departure_reason",
    "membership_create",
    "membership_delete",
    "membership_departure_apply",
    "membership_departure_plan",
    "membership_departure_start",
    "membership_ensure",
    "membership_update",
    "route_new_accounts",
    "route_queued",
    "territory_create",
    "territory_name_accounts",
    "territory_problems",
    "territory_update",
    "unrouted_account_ids",
    "unrouted_route",
    "unrouted_send",
    "user_create",
]
