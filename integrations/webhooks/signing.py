"""How each webhook request is signed: HMAC-SHA256 with the endpoint's secret over "<timestamp>.<body>".

Headers: X-RevOps-Timestamp (Unix seconds), X-RevOps-Signature: v1=<hex digest>. A receiver recomputes the digest,
compares in constant time and refuses a timestamp older than the replay window (REPLAY_WINDOW_SECONDS).
"""

from __future__ import annotations

import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300  # what the README tells receivers to accept: 5 minutes either way
VERSION = "v1"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-RevOps-Signature header's value for this body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"
