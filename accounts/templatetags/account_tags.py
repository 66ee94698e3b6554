"""Words and figures of accounts as pages show them: money as a revenue team says it ("$1.5M"), field labels."""

from django import template

from ..criteria import attribute_label, money

register = template.Library()


@register.filter(name="money")
def money_filter(value) -> str:
    """$1.5M, $250K, $950; an empty value stays empty."""
    if value is None or value == "":
        return ""
    try:
        return money(float(value))
    except (TypeError, ValueError):
        return str(value)


@register.filter(name="field_label")
def field_label_filter(name) -> str:
    """An account field's label ("Employees"), or an attributes key as words ("Lead source")."""
    return attribute_label(name)


@register.filter(name="person")
def person_filter(user) -> str:
    """A person by their full name, else their username; empty for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.username
