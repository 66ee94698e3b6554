"""Each role's home page: what they work on, and where to see how it goes."""

from django.shortcuts import render

from accounts.selectors import account_list, coverage_remember, covered_ids, opportunity_list
from core.decorators import role_required
from core.roles import ADMIN, MANAGER, REP, primary_role
from core.selectors import job_list
from core.summaries import counted
from territories.selectors import territories_counted, territory_list


def home_counts(user, role: str) -> tuple[dict[str, int], object]:
    """(the home page's tiles: accounts the user can see, open opportunities among them and, for an admin, accounts in
    no territory; when they were counted). Each is a count over a scope of up to every account (a million: tens of
    milliseconds each), so they are shared for COUNTS_CACHE_SECONDS by every reader of the same scope (core/summaries):
    every admin; the managers of the same territories; a rep alone (they also see what they own elsewhere)."""
    accounts = account_list(user=user)

    def compute() -> dict[str, int]:
        counts = {
            "account_count": accounts.count(),
            "open_opportunities": opportunity_list(user=user).filter(is_closed=False).count(),
        }
        if role == ADMIN:
            counts["unrouted_count"] = accounts.filter(territory__isnull=True).count()
        return counts

    scope = {ADMIN: (ADMIN,), MANAGER: (MANAGER, sorted(covered_ids(user))), REP: (REP, user.pk)}[role]
    return counted("home", scope, compute)


@role_required()
def home(request):
    """One home page per role, showing what that role works on."""
    user = request.user
    coverage_remember(user)  # the user's territories looked up once for the page's lists
    role = primary_role(user)
    counts, counts_at = home_counts(user, role)
    context = {
        "role": role,
        **counts,
        "counts_at": counts_at,
        "owned_count": account_list(user=user).filter(owner=user).count(),  # one range of the owner index
        "recent_jobs": job_list(user=user)[:5],
    }
    if role in (MANAGER, ADMIN):
        context["territories"], context["counted_at"] = territories_counted(territory_list(user=user), shared=True)
    return render(request, f"insights/home_{role}.html", context)
