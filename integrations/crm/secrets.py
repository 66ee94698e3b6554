"""CRM credentials encrypted at rest: Fernet with the key from INTEGRATIONS_ENCRYPTION_KEY (settings).

Without a key, a key derived from SECRET_KEY is used where settings allow it (development and tests only); anywhere
else nothing is encrypted, so no credentials are saved, and the reason is said in words."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialsError(Exception):
    """Credentials cannot be encrypted or decrypted (no key, or a key that changed)."""


def _fernet() -> Fernet:
    key = getattr(settings, "INTEGRATIONS_ENCRYPTION_KEY", "")
    if key:
        try:
            return Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise CredentialsError(
                "INTEGRATIONS_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    if getattr(settings, "INTEGRATIONS_DEV_KEY_ALLOWED", False):
        digest = hashlib.sha256(b"integrations-credentials:" + settings.SECRET_KEY.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    raise CredentialsError(
        "Credentials cannot be saved: set INTEGRATIONS_ENCRYPTION_KEY in the environment (a Fernet key) so they "
        "are encrypted at rest."
    )


def encrypt(values: dict) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsError(
            "The stored credentials cannot be decrypted: INTEGRATIONS_ENCRYPTION_KEY changed since they were saved. "
            "Enter them again."
        ) from None
