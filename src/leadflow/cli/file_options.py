"""Options every command that reads a file offers: its encoding and delimiter."""

ENCODING_HELP = "The file's encoding (e.g. utf-8, utf-16, windows-1252); detected when not given."
DELIMITER_HELP = (
    "The CSV delimiter: , ; tab | (or comma, semicolon, tab, pipe); detected when not given."
)
