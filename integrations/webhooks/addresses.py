"""Which addresses a webhook may be sent to: only http(s), and never a private, loopback, link-local, multicast or
reserved address unless settings.WEBHOOKS_ALLOW_PRIVATE_URLS (tests and the demo send to this machine).

The host is resolved when an endpoint is saved, and again each time a connection is opened to send (`GuardedAdapter`
connects to the very address it checked), so a name that resolves to a public address at save and to an internal
one later (DNS rebinding) is refused when it matters.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeAddress(ValueError):  # noqa: N818  # a refusal, said in words to the admin
    """A URL or host that webhooks may not be sent to; the message says why, in words."""


def refusal(ip: Address) -> str | None:
    """Why this address is refused, or None when it is a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False))


def resolve(host: str, port: int | None) -> list[Address]:
    """Every address `host` resolves to (a literal address is itself). Raises UnsafeAddress when it does not
    resolve, or when any address is refused (unless private addresses are allowed)."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"The host “{host}” could not be found.") from exc
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeAddress(f"The host “{host}” could not be found.")
    if not allow_private():
        for ip in addresses:
            why = refusal(ip)
            if why:
                raise UnsafeAddress(
                    f"“{host}” is {why} ({ip}): webhooks are only sent to public addresses "
                    "(WEBHOOKS_ALLOW_PRIVATE_URLS allows others)."
                )
    return addresses


def check_url(url: str) -> None:
    """Raise UnsafeAddress unless `url` is an http(s) URL whose host resolves to addresses webhooks may reach."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddress("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise UnsafeAddress("The URL names no host.")
    if parts.username or parts.password:
        raise UnsafeAddress("Put no user name or password in the URL: requests are signed with the endpoint's secret.")
    try:
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddress("The URL's port is not a number between 1 and 65535.") from exc
    resolve(parts.hostname, port)


class _Guarded:
    """A connection that resolves its host, checks every address and connects to the one it checked."""

    def _new_conn(self):
        addresses = resolve(self._dns_host, self.port)
        wanted = self._dns_host
        self._dns_host = str(addresses[0])
        try:
            return super()._new_conn()
        finally:
            self._dns_host = wanted


class GuardedHTTPConnection(_Guarded, HTTPConnection):
    pass


class GuardedHTTPSConnection(_Guarded, HTTPSConnection):  # TLS still checks the certificate against the name
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections are checked as they are opened."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }
