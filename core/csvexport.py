"""CSV downloads that open safely in a spreadsheet."""

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> object:
    """Text a spreadsheet would run as a formula ('=HYPERLINK(...)') is prefixed with a quote; numbers pass."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object handing back what csv.writer writes, so rows stream instead of piling up in memory."""

    def write(self, value: str) -> str:
        return value


def streamed_csv(*, filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A CSV download read lazily from `rows` (e.g. a queryset iterator), every cell made safe."""
    writer = csv.writer(_Echo())

    def stream():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell_text(value) -> object:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def table_csv(request, table, *, columns: Sequence[tuple[str, str]], filename: str) -> StreamingHttpResponse:
    """A django-tables2 table's filtered rows as CSV, in the order the page shows (its `sort` parameter, through the
    table's own column orderings; unknown names are ignored), streamed. `columns`: (header, field) pairs."""
    if request.GET.get("sort"):
        table.order_by = request.GET["sort"]
    rows = table.data.data.values_list(*[field for _, field in columns])
    return streamed_csv(
        filename=filename,
        header=[name for name, _ in columns],
        rows=([_cell_text(v) for v in row] for row in rows.iterator(chunk_size=2000)),
    )
