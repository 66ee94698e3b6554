from .roles import ROLE_LABELS, is_admin, is_manager, is_rep, primary_role


def navigation(request):
    """What the navigation shows a user: only the parts their role may use."""
    user = request.user
    role = primary_role(user)
    return {
        "nav": {
            "role": role,
            "role_label": ROLE_LABELS.get(role, ""),
            "is_admin": is_admin(user),
            "is_manager": is_manager(user),
            "is_rep": is_rep(user),
        }
    }
