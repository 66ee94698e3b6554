"""API login: a token for a username and password, refused (429) while axes has the login locked out."""

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny


class LoginLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class TokenView(ObtainAuthToken):
    """POST {username, password} -> {token}; then send `Authorization: Token <token>`.

    Failed attempts count towards the same lockout as the login page (axes watches `authenticate`).
    """

    permission_classes = [AllowAny]

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # axes flags the request it was given; DRF passes its own Request to `authenticate`.
            if getattr(request, "axes_locked_out", False):
                raise locked_out() from None
            raise


def locked_out() -> LoginLockedOut:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    error = LoginLockedOut(
        f"Too many failed logins: this account is locked for {minutes} minutes from this address. Try again later."
    )
    error.wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return error
