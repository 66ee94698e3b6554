"""The integrations' tables, one module per integration (each imported here so Django finds its models)."""

from .alerts import Alert, AlertChannel, AlertCursor, AlertKind, AlertPreference

__all__ = ["Alert", "AlertChannel", "AlertCursor", "AlertKind", "AlertPreference"]
