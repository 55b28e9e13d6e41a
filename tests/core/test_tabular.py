"""Files as people have them: encodings, delimiters, decimal commas and placeholders."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow.core import tabular
from leadflow.core.errors import Invalid

TEXT = "name,city\nDän,Müller\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-16"), "utf-16"),  # with its BOM, as Excel's "Unicode text"
        (TEXT.encode("utf-16-le"), "utf-16-le"),
        (TEXT.encode("windows-1252"), "windows-1252"),
        ("price\n€5\n".encode("windows-1252"), "windows-1252"),
    ],
)
def test_each_encoding_is_detected_and_read(data: bytes, expected: str) -> None:
    text, used = tabular.decode(data)
    assert used == expected
    assert text.lstrip("\ufeff").startswith(("name,city", "price"))
    assert "Dän" in text or "€5" in text


def test_an_encoding_given_wins_and_a_wrong_one_says_where() -> None:
    assert tabular.decode(b"caf\xe9", "latin-1") == ("café", "latin-1")
    with pytest.raises(Invalid, match="not utf-8: byte 3 is 0xe9"):
        tabular.decode(b"caf\xe9", "utf-8")
    with pytest.raises(Invalid, match="unknown encoding 'klingon'"):
        tabular.decode(b"x", "klingon")


@given(st.binary(max_size=300))
def test_any_bytes_decode_to_text_or_a_clear_refusal(data: bytes) -> None:
    text, used = tabular.decode(data)
    assert isinstance(text, str) and used


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed(delimiter: str) -> None:
    rows = [
        ["email", "company", "employees"],
        ["a@x.com", "X, Inc.", "1.234,5"],
        ["b@y.com", "Y", "7"],
    ]
    quoted = [[f'"{c}"' if delimiter in c or "," in c else c for c in r] for r in rows]
    text = "\n".join(delimiter.join(r) for r in quoted) + "\n"
    assert tabular.sniff_delimiter(text) == delimiter


def test_quoted_newlines_stay_in_their_cell_and_lines_are_counted() -> None:
    text = 'email;note\r\na@x.com;"two\nlines"\r\nb@y.com;one\r\n'
    assert list(tabular.rows_of(text, ";")) == [
        (1, ["email", "note"]),
        (2, ["a@x.com", "two\nlines"]),
        (4, ["b@y.com", "one"]),
    ]


def test_an_unclosed_quote_is_a_clear_error_with_its_line() -> None:
    with pytest.raises(Invalid, match=r"line \d+:"):
        list(tabular.rows_of('a,b\n1,"oops\n', ","))


def test_decimal_commas_are_recognised_only_where_the_file_shows_them() -> None:
    assert tabular.decimal_comma(["1.234,5", "Acme", "12"], ",")
    assert tabular.decimal_comma(["12,5"], "\t")
    assert not tabular.decimal_comma(["1,234.5", "12,5"], ",")  # a point locale, thousands
    assert not tabular.decimal_comma(["12.5", "1.200"], ";")
    assert not tabular.decimal_comma(["1,234", "Acme"], ",")  # could be either: decides nothing
    assert tabular.decimal_comma(["1.200", "Acme"], ";")  # Excel's semicolons: a comma locale
    assert tabular.number_text("1.234,5", comma=True) == "1234.5"
    assert tabular.number_text("-12,75", comma=True) == "-12.75"
    assert tabular.number_text("01.02.2026", comma=True) == "01.02.2026"  # a date, untouched
    assert tabular.number_text("1,234.5", comma=False) == "1,234.5"


@pytest.mark.parametrize(
    "placeholder",
    ["", "  ", "N/A", "n/a", "#N/A", "null", "NULL", "None", "-", "--", "unknown", "Unknown",
     "Please select", "-- Please select --", "Select one", "nan"],
)  # fmt: skip
def test_placeholders_mean_missing(placeholder: str) -> None:
    assert tabular.is_missing(placeholder)
    assert tabular.clean_cell(placeholder, comma=False) is None


@pytest.mark.parametrize("value", ["0", "no", "Acme", "Selection Inc", "-5", "N/A Logistics"])
def test_real_values_are_kept(value: str) -> None:
    assert not tabular.is_missing(value)


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, True),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 200, True),  # a workbook named .csv
        (b"\x00\x01\x02\x00" * 50, True),
        (b"email,title\na@acme.com,C\x00EO\n", False),  # a stray NUL in a cell: a bad row
        (b"email,title\n" + b"a@acme.com,CEO\n" * 400 + b"b@acme.com,\x00\n", False),
        (b"email,ti\x00tle\na@acme.com,CEO\n", True),  # in the header: no table to read
    ],
)
def test_a_binary_file_is_told_from_a_text_file_with_a_stray_nul(data: bytes, binary: bool) -> None:
    text, _ = tabular.decode(data)
    assert (tabular.binary_signs(text) is not None) is binary


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b"\x01\x02\x03\x04" * 50,
            "200 control characters in its first 200 characters (\\x01, \\x02, \\x03, \\x04)",
        ),
        (
            b"\x1b[0m\x7f\x08" * 30 + b"\n" * 10,
            "90 control characters in its first 190 characters (\\x08, \\x1b, \\x7f)",
        ),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 200, "a NUL character in its first line"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20,
            "80 control characters in its first 320 characters (NUL, \\x1a)",
        ),
    ],
)
def test_a_binary_file_is_told_by_what_was_found(data: bytes, said: str) -> None:
    """It always said `NUL characters near the start`, also of a file that held none."""
    text, _ = tabular.decode(data)
    assert tabular.binary_signs(text) == said
