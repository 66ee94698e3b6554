"""The criterion builder: rows of {group, attribute, operator, value, points} edited in a page, in the criterion
language of `accounts.criteria`. ICP fit criteria use points and groups, exclusions neither, territory rules groups
without points.

How a view uses it::

    from accounts.criteria_forms import CriteriaFormSet

    rules = CriteriaFormSet(
        request.POST if request.method == "POST" else None,
        prefix="rules",                # one prefix per builder on a page
        items=territory.criteria,      # the stored criterion dicts shown as rows (ignored once bound)
        with_points=False,             # True: a Points column (ICP fit criteria)
        with_group=True,               # defaults to with_points; groups are alternatives ("Size": 1-50 or 51-200)
        add_label="Add rule",          # the button's words (default "Add criterion")
        keys=None,                     # attribute keys accounts hold; None: looked up once (share a set on a page)
    )
    if request.method == "POST" and rules.is_valid():
        items = rules.items()          # [{"group", "attribute", "operator", "value"[, "points"]}, ...] in row order
        ...                            # hand `items` to a service

In the template (the partial loads static/js/criteria_builder.js itself: Add and Remove work without inline
script)::

    {% include "accounts/_criteria_builder.html" with formset=rules %}

Blank rows are ignored; a row removed with its Remove button is left out; a form shown again after an error keeps
every row as typed. Values are typed as people write them: `a, b` for lists, `low, high` for between, numbers with
thousands separators or a K/M/B suffix ("1.5M"), yes/no for true or false.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.functional import cached_property

from .criteria import (
    ACCOUNT_FIELDS,
    BOOLEAN,
    NUMBER,
    OPERATORS,
    OPERATORS_BY_TYPE,
    attribute_label,
    attribute_type,
    criterion_errors,
)
from .selectors import attribute_keys

# The operators in the words a page shows them (the sentences of `criteria.criterion_sentence` use the same words).
OPERATOR_LABELS = {
    "eq": "is",
    "neq": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "gte": "≥",
    "lte": "≤",
    "between": "between",
    "contains": "contains",
    "exists": "is known",
}
OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in OPERATORS]
# What each operator's value looks like, shown in the value box while it is empty.
VALUE_HINTS = {
    "in": "a, b, c",
    "not_in": "a, b, c",
    "between": "low, high",
    "exists": "(no value)",
}
MAX_ROWS = 200

_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_NUMBER = re.compile(r"^([+-]?)\$?\s*([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)\s*([kmbt])?$", re.IGNORECASE)


def parse_number(text: str) -> int | float:
    """A number as a revenue team writes it: 1000, 1,000, 2.5, $1.5M, 900k, -10. ValueError for anything else."""
    match = _NUMBER.match(str(text).strip())
    if not match:
        raise ValueError(text)
    sign, digits, scale = match.groups()
    if "," in digits and not re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?", digits):
        raise ValueError(text)  # 1,00 is a typo, not a hundred
    number = float(digits.replace(",", "")) * (_SCALES[scale.lower()] if scale else 1)
    number = -number if sign == "-" else number
    return int(number) if number.is_integer() and (scale or "." not in digits) else number


def _split(text: str, *, numbers: bool) -> list[str]:
    """A typed list's items. Numbers may hold thousands separators ("1,000, 10,000"), so a comma followed by three
    digits and then a comma, a space, a suffix or the end belongs to the number."""
    if not numbers:
        return [part.strip() for part in text.split(",") if part.strip()]
    parts = re.split(r",(?![0-9]{3}(?:[,.\skmbtKMBT]|$))", text)
    return [part.strip() for part in parts if part.strip()]


def parse_value(text: str, operator: str, attribute: str) -> Any:
    """A criterion's value from what a person types: `a, b` for lists, `low, high` for between, JSON also accepted."""
    text = (text or "").strip()
    if operator == "exists":
        return None
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError("Write the values separated by commas.") from None
    kind = attribute_type(attribute)
    if operator in ("in", "not_in", "between"):
        numbers = kind == NUMBER or operator == "between"
        parts = _split(text, numbers=numbers)
        if not parts:
            raise forms.ValidationError(
                "Write the low and high numbers, e.g. 1,000, 10,000." if operator == "between"
                else "Write one or more values separated by commas."
            )  # fmt: skip
        if operator == "between" and len(parts) != 2:
            raise forms.ValidationError("Write two numbers, low then high, e.g. 1,000, 10,000.")
        if numbers:
            try:
                return [parse_number(p) for p in parts]
            except ValueError:
                raise forms.ValidationError("Write numbers separated by commas, e.g. 1,000, 10,000.") from None
        return parts
    if operator in ("gte", "lte") or (kind == NUMBER and operator in ("eq", "neq")):
        try:
            return parse_number(text)
        except ValueError:
            raise forms.ValidationError(
                f"Write a number, e.g. 1,000 or 1.5M; “{text}” is not one."
                if text
                else "Write a number, e.g. 1,000 or 1.5M."
            ) from None
    if not text:
        raise forms.ValidationError("Write a value.")
    if kind == BOOLEAN:
        if text.lower() not in ("true", "false", "yes", "no"):
            raise forms.ValidationError("Write yes or no.")
        return text.lower() in ("true", "yes")
    return text


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def show_value(value: Any, attribute: str = "") -> str:
    """A stored value as the value box shows it, so that `parse_value` reads it back unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_number_text(v) if attribute == "" or attribute_type(attribute) == NUMBER else str(v)
                         for v in value)  # fmt: skip
    if isinstance(value, int | float):
        return _number_text(value)
    return str(value)


def attribute_choices(keys: Iterable[str]) -> list:
    """The attribute picker: the account's fields by label, then the keys accounts hold in their attributes."""
    fields = sorted(((name, attribute_label(name)) for name in ACCOUNT_FIELDS), key=lambda choice: choice[1])
    extra = sorted(((key, attribute_label(key)) for key in set(keys) - set(ACCOUNT_FIELDS)), key=lambda c: c[1])
    choices: list = [("", "Choose an attribute…"), ("Account fields", fields)]
    if extra:
        choices.append(("Imported attributes", extra))
    return choices


class AttributeSelect(forms.Select):
    """The attribute picker; each option says its attribute's type, so the page offers only the operators that
    apply to it."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if value:
            option["attrs"]["data-kind"] = attribute_type(str(value))
        return option


def _style(form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        widget.attrs.setdefault("class", "form-select form-select-sm" if isinstance(widget, forms.Select)
                                else "form-control form-control-sm")  # fmt: skip
        widget.attrs.setdefault("aria-label", field.label or name.capitalize())


def message_in_words(field: str, message: str, attribute: str) -> str:
    """A message of `criteria.criterion_errors` about one criterion's `field`, with operators and field names as a
    page shows them."""
    label = attribute_label(attribute)
    if field == "attribute" and attribute:
        return f"No account holds “{label}”: choose an attribute from the list."
    message = re.sub(r"`(\w+)`", lambda m: f"“{OPERATOR_LABELS.get(m.group(1), m.group(1))}”", message)
    message = message.replace("[low, high] numbers", "two numbers, low then high")
    if field == "operator":
        message = re.sub(
            r"; use one of ([a-z_, ]+)\.$",
            lambda m: (
                "; use "
                + ", ".join(f"“{OPERATOR_LABELS.get(op.strip(), op.strip())}”" for op in m.group(1).split(","))
                + "."
            ),
            message,
        )
    if attribute and attribute in ACCOUNT_FIELDS:
        message = re.sub(rf"\b{re.escape(attribute)}\b( \(\w+\))?", label, message)
    return message


class CriterionForm(forms.Form):
    """One row of the builder. A row left blank (no attribute, value, points or group) is ignored."""

    group = forms.CharField(required=False, max_length=120)
    attribute = forms.CharField(required=False, max_length=80)
    operator = forms.ChoiceField(choices=OPERATOR_CHOICES, initial="eq")
    value = forms.CharField(required=False, max_length=1000)
    points = forms.CharField(required=False, max_length=40)

    def __init__(self, *args, keys: set[str], choices: list, with_points: bool, with_group: bool, **kwargs):
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)
        self.empty_permitted = True  # a blank row, new or cleared, is ignored rather than refused
        self.keys, self.with_points, self.with_group = keys, with_points, with_group
        if not with_points:
            del self.fields["points"]
        if not with_group:
            del self.fields["group"]
        current = str(self["attribute"].value() or "").strip()
        known = {value for _, group in choices[1:] for value, _ in group}
        if current and current not in known:  # a name no account holds (any more): shown, and refused on save
            choices = [*choices, ("Not found in accounts", [(current, attribute_label(current))])]
        self.fields["attribute"].widget = AttributeSelect(choices=choices)
        if with_group:
            self.fields["group"].widget.attrs["placeholder"] = "e.g. Size"
        self.fields["value"].widget.attrs["placeholder"] = "value"
        _style(self)

    @property
    def removed(self) -> bool:
        """Whether the row's Remove button was pressed (it stays hidden when the form is shown again)."""
        if "DELETE" not in self.fields:
            return False
        return bool(self.fields["DELETE"].to_python(self["DELETE"].value()))

    def has_changed(self) -> bool:
        """A row counts only once something is written in it (the operator always has a value)."""
        return any(str(self[name].value() or "").strip() for name in ("attribute", "value", "points", "group")
                   if name in self.fields)  # fmt: skip

    def clean(self):
        data = super().clean()
        attribute = (data.get("attribute") or "").strip()
        operator = data.get("operator")
        if not attribute:
            self.add_error("attribute", "Choose an attribute.")
            return data
        if operator is None:
            return data
        label = attribute_label(attribute)
        kind = attribute_type(attribute)
        if operator not in OPERATORS_BY_TYPE[kind]:
            allowed = ", ".join(f"“{OPERATOR_LABELS[op]}”" for op in OPERATORS_BY_TYPE[kind])
            self.add_error("operator", f"“{OPERATOR_LABELS[operator]}” does not apply to {label}; use {allowed}.")
            return data
        try:
            value = parse_value(data.get("value", ""), operator, attribute)
        except forms.ValidationError as exc:
            self.add_error("value", exc)
            return data
        item: dict[str, Any] = {"attribute": attribute, "operator": operator, "value": value}
        if self.with_group:
            item = {"group": (data.get("group") or "").strip(), **item}
        if self.with_points:
            text = (data.get("points") or "").strip()
            try:
                item["points"] = float(parse_number(text)) if text else None
            except ValueError:
                self.add_error("points", "Points must be a number (negative for a penalty).")
                return data
        for field, message in criterion_errors(item, keys=self.keys, with_points=self.with_points).items():
            self.add_error(field if field in self.fields else None, message_in_words(field, message, attribute))
        data["item"] = item
        return data


class _Rows(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].widget = forms.HiddenInput()  # set by the row's Remove button


_BaseCriteriaFormSet = forms.formset_factory(
    CriterionForm, formset=_Rows, extra=0, can_delete=True, max_num=MAX_ROWS, validate_max=True,
    absolute_max=MAX_ROWS,
)  # fmt: skip


class CriteriaFormSet(_BaseCriteriaFormSet):
    """The rows of one builder; see the module's docstring."""

    def __init__(
        self,
        data=None,
        *,
        prefix: str,
        items: Iterable[dict] = (),
        with_points: bool = True,
        with_group: bool | None = None,
        add_label: str = "Add criterion",
        keys: Iterable[str] | None = None,
    ):
        self.with_points = with_points
        self.with_group = with_points if with_group is None else with_group
        self.add_label = add_label
        self._keys = None if keys is None else set(keys)
        initial = [
            {**item, "value": show_value(item.get("value"), str(item.get("attribute") or "")),
             "points": show_value(item.get("points"))}
            for item in items or ()
        ]  # fmt: skip
        super().__init__(data, prefix=prefix, initial=initial)

    @cached_property
    def keys(self) -> set[str]:
        if self._keys is None:
            self._keys = attribute_keys()
        return self._keys

    @cached_property
    def attribute_choices(self) -> list:
        return attribute_choices(self.keys)

    def get_form_kwargs(self, index):
        return {
            "keys": self.keys,
            "choices": self.attribute_choices,
            "with_points": self.with_points,
            "with_group": self.with_group,
        }

    def items(self) -> list[dict]:
        """The criteria of a valid formset, in row order: blank and removed rows left out."""
        return [
            form.cleaned_data["item"]
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form) and "item" in form.cleaned_data
        ]

    @property
    def operator_kinds(self) -> str:
        """{attribute type: operators that apply}, for the page to offer only those (JSON)."""
        return json.dumps({kind: list(ops) for kind, ops in OPERATORS_BY_TYPE.items()})

    @property
    def value_hints(self) -> str:
        return json.dumps(VALUE_HINTS)

    @property
    def column_count(self) -> int:
        return 4 + self.with_points + self.with_group
