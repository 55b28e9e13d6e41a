"""Money amounts a person types (deal amounts, goals, deal sizes): finite and within bounds."""

from __future__ import annotations

import math
import re
import unicodedata

from leadflow.core.errors import Invalid

# A trillion: above any deal, goal or budget, and far enough below 2**53 that sums of millions
# of them stay exact to the cent.
MAX_AMOUNT = 1_000_000_000_000.0
MIN_POSITIVE = 0.01  # a cent: below it a deal size makes the plan's division explode


SHOWN = 40  # characters of what was typed a refusal quotes whole; longer is shortened


def shown(text: str) -> str:
    """What a person typed, quoted as a refusal names it: shortened when long (400 nines)."""
    text = text.strip()
    if len(text) <= SHOWN:
        return repr(text)
    return f"{text[:16] + '…' + text[-8:]!r} ({len(text):,} characters)"


def read(text: str, where: str, *, positive: bool = False) -> float:
    """An amount as typed (`12500.5`, `1e6`, `$1,200`), checked; Invalid naming `where` and
    the text (`1,5`: a comma that separates no thousands)."""
    value = number(text)
    if value is None:
        why = f"{shown(text)} is not a number"
        raise Invalid(f"{where}: {why}", [(where, why)]) from None
    return checked(value, where, positive=positive, given=text)


def number(text: str) -> float | None:
    """A number as people write it (`12500.5`, `1e6`, `$1,234.50`, `1 234 €`), else None:
    the one reading of typed and sent numbers (forms, options, traits, rules, files), so
    `1,5` is no number anywhere rather than 15 in one place. Not checked: `inf` is inf.
    Python's digit grouping (`1_5`, its source code's) is no way people write numbers."""
    if "_" in text:
        return None
    try:
        return float(text)  # most texts: nothing to drop
    except ValueError:
        pass
    try:
        return float(number_text(text))
    except ValueError:
        return None


def checked(value: float, where: str, *, positive: bool = False, given: str | None = None) -> float:
    """The amount, or Invalid naming `where` unless it is finite, >= 0 (> a cent) and bounded;
    `given` is the text it was read from (`float` makes 400 nines inf), named when refused."""
    if not math.isfinite(value):
        what = shown(given) if given is not None else str(value)
        raise Invalid(f"{where}: {what} is not a number an amount can be", [(where, "not finite")])
    reason = None
    if positive and value <= 0:
        reason = "must be positive"
    elif value < 0:
        reason = "must not be negative"
    elif positive and value < MIN_POSITIVE:
        reason = f"must be at least {MIN_POSITIVE:g}"
    elif value > MAX_AMOUNT:
        reason = f"must be at most {MAX_AMOUNT:,.0f}"
    if reason is not None:
        raise Invalid(f"{where}: {reason}", [(where, reason)])
    return value


# Thousands separators a number may be written with: commas (`1,234.5`, or `12,34,567` as
# grouped in India) or spaces (`1 234`, a no-break or thin space as spreadsheets write it).
# A comma anywhere else (`1,5`, a decimal comma) is no thousands separator: that text is
# left as it is, so that it is refused naming it rather than read as another number.
_COMMA_GROUPED = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})+,\d{3})(\.\d+)?")
_SPACE_GROUPED = re.compile(r"[-+]?\d{1,3}([ \u00a0\u202f\u2009]\d{3})+(\.\d+)?")


def currency_split(text: str) -> tuple[str, str, str]:
    """(sign before, the rest, sign after) of text with a currency sign (any of Unicode's)
    at either end, blanks beside it dropped: `$ 1,200` -> ('$', '1,200', '')."""
    rest, before, after = text.strip(), "", ""
    if rest and unicodedata.category(rest[0]) == "Sc":
        before, rest = rest[0], rest[1:].lstrip()
    if rest and unicodedata.category(rest[-1]) == "Sc":
        after, rest = rest[-1], rest[:-1].rstrip()
    return before, rest, after


def number_text(text: str) -> str:
    """A number as a file writes it (`$1,234.50`, `1 234 €`) as Python reads numbers
    (`1234.50`): a currency sign and thousands separators dropped; other text as it was."""
    _, rest, _ = currency_split(text)
    if _COMMA_GROUPED.fullmatch(rest):
        return rest.replace(",", "")
    if _SPACE_GROUPED.fullmatch(rest):
        return "".join(rest.split())
    return rest
