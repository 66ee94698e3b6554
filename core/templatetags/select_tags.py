"""`{% options choices chosen %}`: the <option>s of a pick list, written in one pass. A filter bar's owner list holds
every member of the visible territories (hundreds for an admin); a template loop spends some ten variable look-ups
on each, a tenth of the account list's time; joined strings cost a fraction of that."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def options(choices, chosen=None) -> SafeString:
    """One <option> per choice, a (value, label) pair or a value that is its own label; the one whose value is
    `chosen` (compared as text) selected, none when `chosen` is None. Values and labels escaped."""
    chosen = None if chosen is None else str(chosen)
    return format_html_join("", "{}", ((_option(choice, chosen),) for choice in choices))


def _option(choice, chosen: str | None) -> SafeString:
    value, label = choice if isinstance(choice, (tuple, list)) else (choice, choice)
    value = "" if value is None else str(value)
    if value == chosen:
        return format_html('<option value="{}" selected>{}</option>', value, label)
    return format_html('<option value="{}">{}</option>', value, label)
