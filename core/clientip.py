"""The client's address, as login lockouts (django-axes) and the API's throttles count it."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR with no proxy in front. Behind TRUSTED_PROXY_COUNT proxies, the address the outermost of them saw:
    each proxy appends its peer to X-Forwarded-For, so it is the n-th entry from the right; entries further left came
    from the client and may be forged. With fewer entries than proxies (the request skipped an outer proxy), the
    left-most, which a proxy wrote. An entry that is not an address (more proxies trusted than there are, and the
    client wrote it) counts as REMOTE_ADDR: it is no key to pick, and axes stores it in an inet column."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote
    candidate = addresses[-min(proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
