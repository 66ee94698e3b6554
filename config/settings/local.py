"""Local development and `make demo`: debug on, a fixed secret key unless one is given."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-not-for-production")
os.environ.setdefault("DEBUG", "true")
# The demo's webhooks may point at a receiver on this machine.
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_URLS", "true")

from .base import *  # noqa: E402,F403
