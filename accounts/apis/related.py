"""`contacts/` and `opportunities/`: what hangs off the accounts the user may see."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from core.apis import IdFilter, updated_since_filter
from core.permissions import ReadScopedWriteAdmin

from ..models import Account, Contact, Opportunity
from ..selectors import account_list, contact_list, opportunity_list
from ..services import (
    contact_create,
    contact_delete,
    contact_update,
    opportunity_create,
    opportunity_delete,
    opportunity_update,
)
from .numbers import AmountField


def _visible_account(serializer: serializers.Serializer, account: Account) -> Account:
    """The account a new contact or opportunity hangs on must be one the writer can see."""
    if not account_list(user=serializer.context["request"].user).filter(pk=account.pk).exists():
        raise serializers.ValidationError("No such account.")
    return account


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "account", "external_id", "name", "email", "title", "persona", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # one email per account: checked in validate() with a message on the email field

    def validate_account(self, value):
        return _visible_account(self, value)

    def validate_email(self, value):
        # The same form as the importer's, so an import and the API find the same contact by email.
        return (value or "").strip().lower() or None

    def validate_external_id(self, value):
        return (value or "").strip() or None

    def validate(self, attrs):
        account = attrs.get("account", getattr(self.instance, "account", None))
        email = attrs.get("email", getattr(self.instance, "email", None))
        if account is not None and email:
            others = Contact.objects.filter(account=account, email=email)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise serializers.ValidationError({"email": "This account already has a contact with this email."})
        return attrs


class ContactFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    updated_since = updated_since_filter()

    class Meta:
        model = Contact
        fields = ["account", "persona", "updated_since"]


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts on the accounts the user may see; admins create, change and delete them."""

    serializer_class = ContactSerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = ContactFilter
    search_fields = ["name", "email", "=external_id"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return contact_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = contact_create(values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = contact_update(contact=serializer.instance, values=serializer.validated_data)

    def perform_destroy(self, instance):
        contact_delete(contact=instance)


class OpportunitySerializer(serializers.ModelSerializer):
    amount = AmountField(required=False, allow_null=True, help_text="USD")

    class Meta:
        model = Opportunity
        fields = [
            "id", "account", "external_id", "name", "product", "amount", "stage", "is_closed", "is_won",
            "engaged_on", "closed_on", "owner", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate_account(self, value):
        return _visible_account(self, value)

    def validate(self, attrs):
        is_won = attrs.get("is_won", getattr(self.instance, "is_won", False))
        is_closed = attrs.get("is_closed", getattr(self.instance, "is_closed", False))
        if is_won and not is_closed:
            raise serializers.ValidationError({"is_won": "A won opportunity must be closed."})
        engaged, closed = attrs.get("engaged_on"), attrs.get("closed_on")
        if engaged and closed and closed < engaged:
            raise serializers.ValidationError({"closed_on": "The close date is before the engage date."})
        return attrs


class OpportunityFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    owner = IdFilter(field_name="owner_id")
    updated_since = updated_since_filter()

    class Meta:
        model = Opportunity
        fields = ["account", "owner", "stage", "is_closed", "is_won", "updated_since"]


class OpportunityViewSet(viewsets.ModelViewSet):
    """Opportunities on the accounts the user may see; admins create, change and delete them."""

    serializer_class = OpportunitySerializer
    permission_classes = [ReadScopedWriteAdmin]
    filterset_class = OpportunityFilter
    search_fields = ["name", "product", "=external_id"]
    ordering_fields = ["closed_on", "engaged_on", "amount", "created_at", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return opportunity_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = opportunity_create(values=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = opportunity_update(opportunity=serializer.instance, values=serializer.validated_data)

    def perform_destroy(self, instance):
        opportunity_delete(opportunity=instance)
