"""Which webhook addresses the product may post to: https only (http where ALERTS_ALLOW_HTTP says so, for tests), and
never an address inside our own network (loopback, private, link-local, ...) unless ALERTS_ALLOW_PRIVATE_URLS says
so, so a channel cannot be used to reach internal services. Checked when a channel is saved and again before each
post (a name may resolve elsewhere later)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from ..webhooks.addresses import refusal


class AddressRefused(ValueError):
    """The webhook address may not be used; the message says why, in words."""


def _refused_ip(address: str) -> bool:
    """Whether an address is one chat webhooks may not reach: the same rule as the webhooks' (loopback, private,
    link-local, multicast, reserved...)."""
    return refusal(ipaddress.ip_address(address.split("%")[0])) is not None


def check_webhook_url(url: str, *, resolve: bool = True) -> None:
    """Raise AddressRefused unless the product may post to `url`."""
    parts = urlsplit((url or "").strip())
    allowed = ("https", "http") if settings.ALERTS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise AddressRefused("The address must start with https://.")
    host = parts.hostname
    if not host:
        raise AddressRefused("The address has no host name.")
    if parts.username or parts.password:
        raise AddressRefused("The address must not carry a user name or password.")
    if settings.ALERTS_ALLOW_PRIVATE_URLS:
        return
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    elif host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise AddressRefused("The address points inside this network: use the chat tool's public webhook address.")
    elif not resolve:
        return
    else:
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
        except (OSError, UnicodeError, ValueError):
            raise AddressRefused(f"The host {host} cannot be found.") from None
    if any(_refused_ip(address) for address in addresses):
        raise AddressRefused("The address points inside this network: use the chat tool's public webhook address.")
