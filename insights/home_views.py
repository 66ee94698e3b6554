"""Each role's home page: what they work on, and where to see how it goes."""

from django.shortcuts import render

from accounts.selectors import account_list, coverage_remember
from core.decorators import role_required
from core.roles import ADMIN, MANAGER, primary_role
from core.selectors import job_list
from territories.selectors import territories_counted, territory_list

from .selectors import home_counts


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
