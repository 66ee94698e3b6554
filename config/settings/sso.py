"""Single sign-on settings: the identity provider's endpoints, given one by one or read once, at start-up, from the
issuer's discovery document (OIDC_OP_ISSUER + /.well-known/openid-configuration). A missing or unreachable piece
stops the app with a message naming the variable."""

import requests
from django.core.exceptions import ImproperlyConfigured

DISCOVERY_PATH = "/.well-known/openid-configuration"


def _fetch_discovery(issuer: str, timeout: int) -> dict:
    if not issuer.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"OIDC_OP_ISSUER={issuer!r} is not an http(s):// URL.")
    url = issuer.rstrip("/") + DISCOVERY_PATH
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ImproperlyConfigured(
            f"OIDC_OP_ISSUER: could not read {url} ({exc}); set OIDC_OP_AUTHORIZATION_ENDPOINT, "
            "OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT and OIDC_OP_JWKS_ENDPOINT instead."
        ) from None


def discover_endpoints(
    *,
    issuer: str | None,
    secret: str | None,
    sign_algo: str,
    authorization: str | None,
    token: str | None,
    userinfo: str | None,
    jwks: str | None,
    timeout: int,
) -> tuple[str, str, str | None, str | None]:
    """(authorization, token, userinfo, jwks) endpoints: those given, the rest from the issuer's discovery."""
    if not secret:
        raise ImproperlyConfigured("OIDC_RP_CLIENT_SECRET must be set with OIDC_RP_CLIENT_ID.")
    if issuer and not (authorization and token and userinfo and jwks):
        found = _fetch_discovery(issuer, timeout)
        authorization = authorization or found.get("authorization_endpoint")
        token = token or found.get("token_endpoint")
        userinfo = userinfo or found.get("userinfo_endpoint")
        jwks = jwks or found.get("jwks_uri")
    if not authorization or not token:
        raise ImproperlyConfigured(
            "Single sign-on needs OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT (or OIDC_OP_ISSUER)."
        )
    if sign_algo.startswith(("RS", "ES")) and not jwks:
        raise ImproperlyConfigured(f"OIDC_RP_SIGN_ALGO={sign_algo} needs OIDC_OP_JWKS_ENDPOINT (or OIDC_OP_ISSUER).")
    return authorization, token, userinfo, jwks
