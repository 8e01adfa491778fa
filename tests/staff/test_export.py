"""Every CSV cell a spreadsheet could run as a formula is neutralised (OWASP's rule, as a spreadsheet reads the text)."""

from __future__ import annotations

import pytest

from staff.export import csv_lines, safe_cell


@pytest.mark.parametrize(
    "text",
    [
        "=cmd|' /C calc'!A0", "+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\n=1", "\tplain", "\rplain",
        "   =HYPERLINK(\"http://x\")", "\u00a0=1", "\u3000=1",
        "\uff1dcmd", "\uff0b1", "\uff0d1", "\uff20SUM(1)", "  \uff1d1",
    ],
)  # fmt: skip
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["JSmith", "a=b", "networkAdmin", "user+tag@example.com", "1-2", " plain", ""])
def test_an_ordinary_cell_is_written_as_it_is(text: str) -> None:
    assert safe_cell(text) == text


def test_the_quote_survives_the_csv_writer() -> None:
    lines = b"".join(csv_lines(["principal"], [["\uff1dcmd"], ["  =1"]])).decode().splitlines()
    assert lines == ["principal", "'\uff1dcmd", "'  =1"]


def test_the_evidence_pack_says_its_raw_reports_are_not_neutralised() -> None:
    from reviews.evidence import README

    assert "NOT neutralised" in README
