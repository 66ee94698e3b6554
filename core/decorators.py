from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from .roles import ADMIN, user_roles


def role_required(*roles: str):
    """Signed-in users holding one of `roles` (any role when none are named).

    Anonymous users go to the login page; a user without a role sees the page that says so;
    a user with another role is refused with 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            held = user_roles(request.user)
            if not held:
                return render(request, "core/no_role.html", status=403)
            if roles and not held.intersection(roles):
                return render(request, "core/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_only = role_required(ADMIN)
