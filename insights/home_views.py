"""Each role's home page: what they work on, and where to see how it goes."""

from django.shortcuts import render

from accounts.selectors import account_list, opportunity_list
from core.decorators import role_required
from core.roles import ADMIN, MANAGER, primary_role
from core.selectors import job_list
from territories.selectors import territories_counted, territory_list


@role_required()
def home(request):
    """One home page per role, showing what that role works on."""
    user = request.user
    role = primary_role(user)
    accounts = account_list(user=user)
    context = {
        "role": role,
        "account_count": accounts.count(),
        "owned_count": accounts.filter(owner=user).count(),
        "open_opportunities": opportunity_list(user=user).filter(is_closed=False).count(),
        "recent_jobs": job_list(user=user)[:5],
    }
    if role in (MANAGER, ADMIN):
        context["territories"], context["counted_at"] = territories_counted(territory_list(user=user), shared=True)
    if role == ADMIN:
        context["unrouted_count"] = accounts.filter(territory__isnull=True).count()
    return render(request, f"insights/home_{role}.html", context)
