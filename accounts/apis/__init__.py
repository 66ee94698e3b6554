"""REST API for accounts, contacts, signals and opportunities; every queryset comes from the access selectors."""

from .accounts import (
    AccountDetailSerializer,
    AccountFilter,
    AccountSerializer,
    AccountViewSet,
    NullsLastOrderingFilter,
)
from .batches import AccountBulkView, ContactBulkView, SignalViewSet
from .related import ContactViewSet, OpportunityViewSet

__all__ = [
    "AccountBulkView",
    "AccountDetailSerializer",
    "AccountFilter",
    "AccountSerializer",
    "AccountViewSet",
    "ContactBulkView",
    "ContactViewSet",
    "NullsLastOrderingFilter",
    "OpportunityViewSet",
    "SignalViewSet",
]
