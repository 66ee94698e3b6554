"""The body of a table whose cells are made in one pass (`page_cells`: [(the row's page, [(td class, text), ...])]),
written as HTML here rather than by a template loop, which resolves several template variables per cell (bench/pages.py
measures the pages that use it). The first cell links to the row's page; rows are odd and even as django-tables2
marks its own."""

from __future__ import annotations

from html import escape

from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe


def html_text(value) -> str:
    """`value` written into HTML as Django's conditional_escape writes it (what is already HTML as it is, anything
    else as text, escaped), without the lazy-argument check and the SafeString that each call of it makes: a filter bar
    and a table body escape a thousand values or more per page."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value), quote=True)


def tbody_html(page_cells, *, columns: int, empty_text: str) -> SafeString:
    """The <tbody> of `page_cells`, or of one row saying `empty_text` across the `columns` columns when there are
    none. Every text and address is escaped here (and localised, as a template's {{ value }} is); plain f-strings
    rather than a format_html call per cell, which costs more over a page's hundreds of cells."""
    if not page_cells:
        empty = html_text(empty_text)
        return mark_safe(f'<tbody>\n<tr><td colspan="{int(columns)}">{empty}</td></tr>\n</tbody>')  # noqa: S308  # nosec B308 B703
    lines = ["<tbody>"]
    for number, (url, cells) in enumerate(page_cells):
        tds = []
        for index, (css, text) in enumerate(cells):
            shown = html_text(localize(text))
            if index == 0:
                shown = f'<a href="{html_text(url)}">{shown}</a>'
            tds.append(f'<td class="{html_text(css)}">{shown}</td>' if css else f"<td>{shown}</td>")
        lines.append(f'<tr class="{"even" if number % 2 else "odd"}">{"".join(tds)}</tr>')
    lines.append("</tbody>")
    return mark_safe("\n".join(lines))  # noqa: S308  # nosec B308 B703 (every text, class and address escaped above)
