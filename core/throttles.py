"""API throttles: per user (a session or a token), and per client address for anonymous calls."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .clientip import client_ip


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return client_ip(request)  # the same address login lockouts count, behind the same trusted proxies

    def get_rate(self) -> str | None:
        """The rate the settings say now: DRF's own get_rate reads THROTTLE_RATES, bound once at import time, so a
        changed REST_FRAMEWORK (override_settings in tests) would otherwise be ignored."""
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        try:
            return rates[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No default throttle rate set for '{self.scope}' scope") from None

    def wait(self) -> float:
        """Seconds until the next request is allowed, never None: DRF's is None when the history holds more calls
        than the rate allows (the rate was lowered, or several processes counted at once), and a refused call would
        then have no Retry-After. DRF rounds it up to whole seconds for the header and the message."""
        wait = super().wait()
        return self.duration if wait is None else wait


class AnonThrottle(ClientAddressMixin, AnonRateThrottle):
    pass


class UserThrottle(ClientAddressMixin, UserRateThrottle):
    pass
