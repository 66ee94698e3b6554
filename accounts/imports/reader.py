"""Reading an uploaded CSV safely: checked before anything is written, so a bad file writes nothing."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

csv.field_size_limit(10 * 1024 * 1024)


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, header, mapping...); nothing was written."""


def check_file(path: Path) -> tuple[list[str], int]:
    """Check the whole file before any row is written: UTF-8 text, a header, at least one row.

    Returns the header and the number of data rows (for the progress bar).
    """
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError("The file is empty.")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    line = 1
    with path.open("rb") as raw:
        while block := raw.read(1 << 20):
            if b"\x00" in block:
                raise ImportFileError("This is not a CSV text file (it contains binary data).")
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line += block[: exc.start].count(b"\n")
                raise ImportFileError(
                    f"The file is not UTF-8 text: byte 0x{block[exc.start]:02x} on line {line} cannot be read. "
                    "Save it as 'CSV UTF-8' and upload it again."
                ) from None
            line += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFileError("The file is not UTF-8 text: it ends in the middle of a character.") from None
    header: list[str] | None = None
    rows = 0
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        try:
            for record in reader:
                if header is None:
                    if not any(cell.strip() for cell in record):
                        continue
                    header = [cell.strip() for cell in record]
                elif any(cell.strip() for cell in record):
                    rows += 1
        except csv.Error as exc:
            raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None
    if header is None:
        raise ImportFileError("The file is empty.")
    blanks = [i + 1 for i, name in enumerate(header) if not name]
    if blanks:
        raise ImportFileError(f"The header has blank column names (columns {', '.join(map(str, blanks))}).")
    seen: set[str] = set()
    repeated = sorted({name for name in header if name.lower() in seen or seen.add(name.lower())})
    if repeated:
        raise ImportFileError(f"The header repeats columns: {', '.join(repeated)}.")
    if rows == 0:
        raise ImportFileError("The file has a header but no data rows.")
    return header, rows


def records(path: Path) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of every non-blank data record of a checked file, as uploaded: the lines a
    record spans (a quoted cell may hold line breaks) and its cells, whatever their number."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        seen_header = False
        last_line = 0
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if not seen_header:
                seen_header = True
                continue
            yield line, last_line, record


SAMPLE_ROWS = 1000  # rows read at most for the samples: the first rows of a huge file are enough
SAMPLE_LENGTH = 60  # characters of a sample shown at most


def sample_values(path: Path, header: list[str], *, per_column: int = 3) -> dict[str, list[str]]:
    """Up to `per_column` distinct non-blank values of each column, from the first rows of the file, for the mapping
    page ("e.g. Acme · Globex · Initech")."""
    samples: dict[str, list[str]] = {column: [] for column in header}
    for read, (_, _, record) in enumerate(records(path)):
        if read >= SAMPLE_ROWS or all(len(values) >= per_column for values in samples.values()):
            break
        for column, cell in zip(header, record, strict=False):
            value = cell.strip()
            if len(value) > SAMPLE_LENGTH:
                value = value[: SAMPLE_LENGTH - 1] + "…"
            values = samples[column]
            if value and len(values) < per_column and value not in values:
                values.append(value)
    return samples


def read_rows(path: Path, header: list[str]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line number, {column: cell}) for every non-blank data row; (line, reason) when the row is malformed."""
    for line, last_line, record in records(path):
        if len(record) != len(header):
            if last_line > line and any("\n" in cell for cell in record):
                # A quoted cell ran on over the following lines: they were read as part of it.
                swallowed = last_line - line + 1
                yield (
                    line,
                    (
                        f"a quote opened on line {line} is never closed: it swallowed lines {line} to {last_line} "
                        f"({swallowed} lines), which were not imported; close the quote and import them again"
                    ),
                )
                continue
            yield line, f"has {len(record)} fields but the header has {len(header)}"
            continue
        yield line, dict(zip(header, record, strict=True))


def file_header(path: Path) -> list[str]:
    """The header of a checked file (its first non-blank record)."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        for record in csv.reader(text):
            if any(cell.strip() for cell in record):
                return [cell.strip() for cell in record]
    return []


def header_of(data: bytes) -> list[str]:
    """The header of an uploaded file's first bytes, for the column-mapping form."""
    text = data.decode("utf-8-sig", errors="replace")
    for record in csv.reader(io.StringIO(text)):
        if any(cell.strip() for cell in record):
            return [cell.strip() for cell in record]
    return []
