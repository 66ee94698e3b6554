"""The integrations' tables, one module per integration (each imported here so Django finds its models)."""

from .crm import CrmConnection, CrmLink  # noqa: F401
