"""Money as receipts print it, in Spanish and English formats: `1.234,56` and
`1,234.56`, `12,50 €`, `€12.50`, `$3.99`, `EUR 7,00`, `£2.40`, `1,50-` (a discount).
An amount has two decimals (a receipt's amounts do; a bare integer is a count, a year
or a code); one stray space around its separator (`12, 50`) is OCR's and is forgiven.
A number inside a date (`12.11.2026`) or before `%` is not an amount."""

import re
from dataclasses import dataclass
from decimal import Decimal

SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}
CODES = {"EUR": "EUR", "EUROS": "EUR", "EURO": "EUR", "USD": "USD", "GBP": "GBP", "E": "EUR"}
AMOUNT = re.compile(
    r"""
    (?<![\d.,])
    (?P<minus>-\s?)?
    (?:(?P<before>[€$£]|\b(?:EUR|USD|GBP)\b)\s?)?
    (?P<minus2>-)?
    (?P<whole>\d{1,3}(?:[.,]\s?\d{3})+|\d{1,7})
    \s?(?P<sep>[.,])\s?(?P<cents>\d{2})
    (?!\d|\s?%|\s?[.,]\d)
    (?:\s?(?P<after>€|\$|£|\b(?:EUROS?|EUR|USD|GBP|E)\b))?
    (?P<minus3>-(?!\d))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Digits OCR reads as letters, fixed inside what is otherwise a number with separators
# (`1O,5O`, `12/1O/2026`): never in a word, where the letters are letters.
NUMBERISH = re.compile(r"(?<![A-Za-z0-9])[0-9OoIl|]+(?:[.,/:\-]\s?[0-9OoIl|]+)+(?![A-Za-z0-9])")
LOOKALIKES = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})
CURRENCY_WORD = re.compile(r"€|\$|£|\b(?:EUROS?|EUR|USD|GBP)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int  # where it is in its line
    end: int
    currency: str | None  # the symbol or code printed with it
    separator: str  # the decimal separator: "," (1.234,56) or "." (1,234.56)


def fix_digits(line: str) -> str:
    """`line` with O read for 0 and I, l or | read for 1 inside numbers (same length)."""

    def fixed(match: re.Match[str]) -> str:
        token = match.group(0)
        digits = sum(c.isdigit() for c in token)
        letters = sum(c in "OoIl|" for c in token)
        return token.translate(LOOKALIKES) if digits and digits >= letters else token

    return NUMBERISH.sub(fixed, line)


def amounts(line: str) -> list[Amount]:
    """The amounts in a line (already through fix_digits), left to right."""
    found = []
    for match in AMOUNT.finditer(line):
        whole = re.sub(r"[.,\s]", "", match["whole"])
        value = Decimal(f"{whole}.{match['cents']}")
        if match["minus"] or match["minus2"] or match["minus3"]:
            value = -value
        mark = match["before"] or match["after"]
        currency = None
        if mark:
            currency = SYMBOLS.get(mark) or CODES.get(mark.upper())
        found.append(Amount(value, match.start(), match.end(), currency, match["sep"]))
    return found


def currencies(line: str) -> list[str]:
    """The currencies a line names, by symbol or code, in order."""
    return [SYMBOLS.get(m) or CODES[m.upper()] for m in CURRENCY_WORD.findall(line)]
