"""Request plumbing shared by every page and endpoint."""

from django.contrib.auth import SESSION_KEY, logout


class EndInactiveSessionMiddleware:
    """End the session of a user who was deactivated (or deleted) since they logged in.

    Django already treats such a session as anonymous (ModelBackend.get_user refuses inactive users), but
    leaves the session row behind; flushing it means reactivating the user does not bring the old session back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Only sessions that carry a login cost a user lookup; anonymous visitors pay nothing.
        if SESSION_KEY in request.session and not request.user.is_authenticated:
            logout(request)
        return self.get_response(request)
