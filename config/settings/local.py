"""Local development and `make demo`: debug on, a fixed secret key unless one is given."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-not-for-production")
os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F403
