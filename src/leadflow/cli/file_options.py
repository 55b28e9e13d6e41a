"""Options every command that reads or writes a file offers, and the check of a file to write."""

from pathlib import Path

from leadflow.core.errors import Invalid

ENCODING_HELP = "The file's encoding (e.g. utf-8, utf-16, windows-1252); detected when not given."
DELIMITER_HELP = (
    "The CSV delimiter: , ; tab | (or comma, semicolon, tab, pipe); detected when not given."
)


def check_writable(path: Path) -> None:
    """Invalid unless `path` names a file in a folder that exists: checked before the work."""
    if path.is_dir():
        raise Invalid(f"{path}: a folder; give the file's name")
    if not path.parent.is_dir():
        raise Invalid(f"{path.parent}: no such folder")
