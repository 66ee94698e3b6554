"""The body of a table rendered in one pass: every text and address escaped, numbers localised, rows odd and even,
the first cell a link to the row's page, and one row saying so when there are none."""

from core.tablerows import tbody_html


def test_rows_are_written_escaped_with_the_first_cell_linking_to_the_row():
    html = tbody_html(
        [("/accounts/1/", [("name", "<script>alert(1)</script> & Co"), (None, 12345)]),
         ("/accounts/2/?a=1&b=2", [("name", "Initech"), ("text-end", "—")])],
        columns=2, empty_text="none",
    )  # fmt: skip
    assert html == (
        "<tbody>\n"
        '<tr class="odd"><td class="name"><a href="/accounts/1/">&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co</a>'
        "</td><td>12345</td></tr>\n"
        '<tr class="even"><td class="name"><a href="/accounts/2/?a=1&amp;b=2">Initech</a></td>'
        '<td class="text-end">—</td></tr>\n'
        "</tbody>"
    )


def test_no_rows_is_one_row_across_the_table_saying_so():
    assert tbody_html([], columns=7, empty_text="No <b>accounts</b>") == (
        '<tbody>\n<tr><td colspan="7">No &lt;b&gt;accounts&lt;/b&gt;</td></tr>\n</tbody>'
    )


def test_a_value_is_written_as_conditional_escape_writes_it():
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from core.tablerows import html_text

    values = [
        "<script>alert('x')</script> & \"Co\"", "plain", "", 12345, 3.5, None, "—", "O'Brien & Söhne",
        mark_safe("<b>already HTML</b>"), gettext_lazy("Any owner"),
    ]  # fmt: skip
    for value in values:
        assert html_text(value) == str(conditional_escape(value)), value
