"""Dates as receipts print them, in Spanish and English: `12/11/2026`, `12-11-26`,
`12.11.2026`, `2026-11-12`, `12 de noviembre de 2026`, `12-nov-2026`, `Nov 12, 2026`,
`November 12th 2026`, `12 Nov 2026`, month names and abbreviations in both languages.
Numbers are day first unless the day cannot be (`11/25/2026`) or the caller says the
receipt is American (`month_first`). Lines are upper case without accents."""

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "ENERO": 1, "ENE": 1, "JANUARY": 1, "JAN": 1,
    "FEBRERO": 2, "FEBRUARY": 2, "FEB": 2,
    "MARZO": 3, "MARCH": 3, "MAR": 3,
    "ABRIL": 4, "ABR": 4, "APRIL": 4, "APR": 4,
    "MAYO": 5, "MAY": 5,
    "JUNIO": 6, "JUNE": 6, "JUN": 6,
    "JULIO": 7, "JULY": 7, "JUL": 7,
    "AGOSTO": 8, "AGO": 8, "AUGUST": 8, "AUG": 8,
    "SEPTIEMBRE": 9, "SETIEMBRE": 9, "SEPTEMBER": 9, "SEPT": 9, "SEP": 9, "SET": 9,
    "OCTUBRE": 10, "OCTOBER": 10, "OCT": 10,
    "NOVIEMBRE": 11, "NOVEMBER": 11, "NOV": 11,
    "DICIEMBRE": 12, "DIC": 12, "DECEMBER": 12, "DEC": 12,
}  # fmt: skip
MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
YEAR = r"(?P<year>\d{4}|\d{2})(?!\d)"
NUMERIC = re.compile(r"(?<![\d.,])(?P<a>\d{1,2})\s?([/\-.])\s?(?P<b>\d{1,2})\s?\2\s?" + YEAR)
ISO = re.compile(r"(?<!\d)(?P<year>\d{4})([/\-.])(?P<month>\d{1,2})\2(?P<day>\d{1,2})(?!\d)")
DAY_MONTH = re.compile(
    r"(?<!\d)(?P<day>\d{1,2})(?:ST|ND|RD|TH)?\s*(?:DE\s+|[/\-.\s]\s*)?"
    rf"(?P<month>{MONTH})\b\.?\s*(?:DEL?\s+|[/\-.,\s]\s*)?{YEAR}"
)
MONTH_DAY = re.compile(
    rf"\b(?P<month>{MONTH})\b\.?\s*(?P<day>\d{{1,2}})(?:ST|ND|RD|TH)?\b,?\s*{YEAR}"
)


@dataclass(frozen=True)
class Found:
    value: date
    start: int
    end: int
    certain: bool  # False: day and month could be the other way round


def _year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


def _date(year: int, month: int, day: int) -> date | None:
    if not 1990 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def dates(line: str, month_first: bool = False) -> list[Found]:
    """The dates in a line, left to right (each place read once: the first reading)."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []

    def add(value: date | None, match: re.Match[str], certain: bool) -> None:
        span = match.span()
        if value is None or any(s < span[1] and span[0] < e for s, e in taken):
            return
        taken.append(span)
        found.append(Found(value, span[0], span[1], certain))

    for m in ISO.finditer(line):
        add(_date(int(m["year"]), int(m["month"]), int(m["day"])), m, True)
    for m in DAY_MONTH.finditer(line):
        add(_date(_year(m["year"]), MONTHS[m["month"]], int(m["day"])), m, True)
    for m in MONTH_DAY.finditer(line):
        add(_date(_year(m["year"]), MONTHS[m["month"]], int(m["day"])), m, True)
    for m in NUMERIC.finditer(line):
        a, b, year = int(m["a"]), int(m["b"]), _year(m["year"])
        if len(m["year"]) == 2 and m.group(2) == ".":
            continue  # 1.50.25 is not a date a receipt prints
        day, month = (b, a) if (month_first and b <= 31 and a <= 12) or a <= 12 < b else (a, b)
        add(_date(year, month, day), m, a > 12 or b > 12 or a == b)
    return sorted(found, key=lambda f: f.start)
