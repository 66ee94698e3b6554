"""Numbers in the API read by the importer's rules (imports/fields.py), so a cell and a JSON value mean the same:
no infinities or NaNs, bounded exponents and lengths, a comma only between thousands."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..imports import fields as import_fields


@extend_schema_field(OpenApiTypes.INT)
class WholeNumberField(serializers.Field):
    def __init__(self, *, minimum: int = 0, maximum: int = 2**31 - 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.parse = import_fields.whole_number(minimum, maximum)

    def to_internal_value(self, data):
        try:
            return self.parse(data)
        except import_fields.FieldError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return value


# As Django REST framework documents its own decimals: a string of at most 16 digits and 2 decimals.
@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{0,16}(?:\.\d{0,2})?$"})
class AmountField(serializers.Field):
    """A non-negative amount in USD with two decimals; written as a string, like Django's decimals."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.parse = import_fields.decimal_number()
        self.shown = serializers.DecimalField(max_digits=18, decimal_places=2)

    def to_internal_value(self, data):
        try:
            return self.parse(data)
        except import_fields.FieldError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return self.shown.to_representation(value)
