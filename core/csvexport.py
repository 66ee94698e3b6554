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
