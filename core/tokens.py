"""API tokens kept as digests: made, checked, listed and revoked.

A key is 43 random URL-safe characters after the `rvo_` marker (so a leaked key is easy to spot in logs and code
scanners). Only its SHA-256 digest is stored: a plain hash is enough for a key this random (there is nothing to
brute-force), and it lets a request find its token with one indexed lookup. The key is shown once, when it is made.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken

KEY_MARKER = "rvo_"
PREFIX_LENGTH = len(KEY_MARKER) + 6
# A token's last use is written at most this often, so a busy client does not write on every call.
LAST_USED_EVERY = dt.timedelta(minutes=1)


class TokenLimitReached(Exception):
    pass


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(user, *, name: str, days: int | None = None, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, valid `days` days (never expires when None). Returns the token and its key, which is
    not stored anywhere and cannot be shown again."""
    now = now or timezone.now()
    with transaction.atomic():
        # One user's tokens are counted under a lock on the user, so two logins at once cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if token_active(user.api_tokens.all(), now).count() >= settings.API_TOKENS_PER_USER:
            raise TokenLimitReached(
                f"You already have {settings.API_TOKENS_PER_USER} active API tokens: revoke one you no longer use."
            )
        key = KEY_MARKER + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            user=user,
            name=name.strip() or "API token",
            prefix=key[:PREFIX_LENGTH],
            digest=key_digest(key),
            expires_at=now + dt.timedelta(days=days) if days else None,
        )
    return token, key


def token_active(tokens, now: dt.datetime | None = None):
    """Of `tokens` (a queryset), those neither revoked nor expired."""
    now = now or timezone.now()
    return tokens.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)


def token_revoke(token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Revoke `token`; False when it was revoked already."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now or timezone.now()))


def token_status(token: ApiToken, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    if token.revoked_at:
        return "revoked"
    if token.expires_at and token.expires_at <= now:
        return "expired"
    return "active"


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, checked against the stored digests; expired, revoked and inactive users' tokens
    are refused with 401."""

    def authenticate_credentials(self, key: str):
        now = timezone.now()
        token = ApiToken.objects.select_related("user").filter(digest=key_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        status = token_status(token, now)
        if status != "active":
            raise exceptions.AuthenticationFailed(f"This token was {status}: make a new one under API tokens.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
