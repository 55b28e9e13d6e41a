"""Reading CSV and JSON Lines files into numbered rows with canonical field names."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadflow.core.errors import Invalid
from leadflow.core.records import canonical_header

Row = tuple[int, dict[str, Any]]


class RowError(Invalid):
    """A row that cannot be read, with its line number."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        names = [canonical_header(h) for h in header]
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            line = reader.line_num
            if len(record) > len(names):
                raise RowError(line, f"{len(record)} values for {len(names)} columns")
            yield line, dict(zip(names, record, strict=False))


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowError(line, f"not valid JSON ({exc.msg})") from exc
            if not isinstance(data, dict):
                raise RowError(line, "each line must be a JSON object")
            yield line, {canonical_header(k): v for k, v in data.items()}


def read_rows(path: Path) -> Iterator[Row]:
    """Rows of a .csv or .jsonl/.ndjson/.json file, numbered by their line in the file."""
    if not path.exists():
        raise Invalid(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return _jsonl_rows(path)
    if suffix in {".csv", ".txt"}:
        return _csv_rows(path)
    raise Invalid(f"{path}: unknown file type {suffix!r}; use .csv or .jsonl")
