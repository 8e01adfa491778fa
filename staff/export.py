"""CSV export conventions every page shares: streamed UTF-8 lines, times in ISO 8601 UTC, and every cell a
spreadsheet would read as a formula neutralised."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from django.http import StreamingHttpResponse

# OWASP's rule: a cell starting with one of these is read as a formula by spreadsheets (IAM names may start with
# =+-@). Spreadsheets also skip leading spaces and read the full-width forms (U+FF1D and the like) as ASCII, so the test is made
# on the text as a spreadsheet sees it: NFKC-folded, leading white space stripped.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL_START = ("\t", "\r", "\n")


def formula_like(text: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula."""
    return text.startswith(_CONTROL_START) or unicodedata.normalize("NFKC", text).lstrip().startswith(_FORMULA_START)


def safe_cell(value: object) -> str:
    """Render a value for CSV; prefix a quote where a spreadsheet would run the text as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    text = str(value)
    return "'" + text if formula_like(text) else text


def iso_utc(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""


class _Line:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """Yield the UTF-8 CSV lines of a header and rows, neutralising formula cells; constant memory."""
    writer = csv.writer(_Line())
    yield writer.writerow(header).encode()
    for row in rows:
        yield writer.writerow([safe_cell(v) for v in row]).encode()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download of a header and rows (the web side of csv_lines)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
