"""`{% options choices chosen %}`: the <option>s of a pick list, written in one pass. A filter bar's owner list holds
every member of the visible territories (hundreds for an admin), and a template loop resolves several variables for
each."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from core.tablerows import html_text

register = template.Library()


@register.simple_tag
def options(choices, chosen=None) -> SafeString:
    """One <option> per choice, a (value, label) pair or a value that is its own label; the one whose value is
    `chosen` (compared as text) selected, none when `chosen` is None. Values and labels escaped."""
    chosen = None if chosen is None else str(chosen)
    parts = []
    for choice in choices:
        value, label = choice if isinstance(choice, (tuple, list)) else (choice, choice)
        value = "" if value is None else str(value)
        selected = " selected" if value == chosen else ""
        parts.append(f'<option value="{html_text(value)}"{selected}>{html_text(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 (every value and label escaped above)
