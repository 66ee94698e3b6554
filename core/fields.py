"""A list column that is a native array on PostgreSQL (fast to build and compare in SQL) and JSON text elsewhere."""

from __future__ import annotations

import json

from django.db import models

ARRAY_TYPES = {"int": "integer[]", "float": "double precision[]", "text": "text[]"}
PYTHON_TYPES = {"int": int, "float": float, "text": str}


class ListField(models.Field):
    description = "A list of integers, floats or strings"

    def __init__(self, *args, base: str = "text", **kwargs):
        if base not in ARRAY_TYPES:
            raise ValueError(f"base must be one of {', '.join(ARRAY_TYPES)}")
        self.base = base
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["base"] = self.base
        if kwargs.get("default") is list:
            del kwargs["default"]
        return name, path, args, kwargs

    def db_type(self, connection) -> str:
        return ARRAY_TYPES[self.base] if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(value) if isinstance(value, str) else list(value)

    def to_python(self, value):
        if value is None or isinstance(value, list):
            return value
        if isinstance(value, str):
            return json.loads(value)
        return list(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        items = [PYTHON_TYPES[self.base](v) for v in value]
        return items if connection.vendor == "postgresql" else json.dumps(items)


@ListField.register_lookup
class Has(models.Lookup):
    """`field__has=value`: the list holds the value (an array test on PostgreSQL, a JSON one elsewhere)."""

    lookup_name = "has"

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [PYTHON_TYPES[self.lhs.output_field.base](value)])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{rhs} = ANY({lhs})", [*rhs_params, *lhs_params]
        # lhs is the column's SQL, rhs a placeholder: the value itself is a parameter.
        return f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})", [*lhs_params, *rhs_params]  # noqa: S608  # nosec B608  # lhs is the compiled column, rhs a placeholder; the value is a parameter
