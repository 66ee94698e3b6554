"""The rows an import could not take, as uploaded: every original column of each rejected row, with its line and the
reason in words, so a person can fix them in a spreadsheet and import them again."""

from __future__ import annotations

import csv
from pathlib import Path

from core.csvexport import safe_cell

from .reader import records

LINE, REASON = "Line", "Reason not imported"


def rejected_rows_write(*, source: Path, header: list[str], reasons: dict[int, str], target: Path) -> int:
    """Write to `target` the records of `source` that start on a line of `reasons` ({line: reason}): the line, the
    reason, then the row's cells as uploaded (a row with more or fewer cells than the header keeps them all). Streams
    the file once; returns the number of rows written."""
    written = 0
    partial = target.with_name(target.name + ".part")
    with partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(_header(header))
        if reasons:
            for line, _, record in records(source):
                reason = reasons.get(line)
                if reason is not None:
                    writer.writerow([line, safe_cell(reason), *(safe_cell(cell) for cell in record)])
                    written += 1
    partial.replace(target)  # whole or not there: a download never reads half a file
    return written


def _header(header: list[str]) -> list[str]:
    return [LINE, REASON, *header]
