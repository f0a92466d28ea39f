"""A receipt's OCR text as lines: each as printed and as patterns read it (its `key`),
with its amounts; cents OCR cut off into a column of their own put back; the amounts OCR
tore from their labels given back to them (rows); and how sure OCR was of each word."""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from typing import Any

from tzzr.cells import dates, money
from tzzr.cells.money import Amount
from tzzr.cells.receipt_words import (
    COLUMNS,
    FOOTER,
    INCLUDED,
    NOT_MERCHANT,
    PHONE,
    SUBTOTAL,
    TAX,
    TAXID_LABEL,
    is_address,
    names_other,
    plain,
    total_strength,
)


@dataclass
class Line:
    index: int
    text: str  # as printed (NFKC, spaces collapsed)
    key: str  # what patterns read: same length as `text`
    amounts: list[Amount]
    label: str = ""  # `key` without its amounts

    @property
    def letters(self) -> int:
        return sum(c.isalpha() for c in self.label)


@dataclass
class Row:
    """A line's amounts: its own, or those torn away from it onto `source`."""

    amounts: list[Amount]
    source: int
    torn: bool = False


DANGLING = re.compile(r"(?<![\d.,])\d{1,3}(?:[.,]\d{3})*[.,]$")
CENTS = re.compile(r"^\s*\d{2}\s*$")


def rejoin_cents(raw: list[str]) -> list[str]:
    """Amounts whose cents OCR put in a column of their own (`£10.` … `08`, seen with
    Tesseract on right-aligned prices): each run of two-digit lines goes back, in order,
    to as many amounts cut after their separator before it."""
    lines = list(raw)
    waiting: list[int] = []  # lines ending in a cut amount, not yet given their cents
    at = 0
    while at < len(lines):
        text = lines[at].rstrip()
        if DANGLING.search(text):
            waiting.append(at)
        elif CENTS.match(text) and waiting:
            run = []
            while at < len(lines) and (CENTS.match(lines[at]) or not lines[at].strip()):
                if lines[at].strip():
                    run.append(at)
                at += 1
            cut = waiting[-len(run) :] if len(run) <= len(waiting) else waiting
            for target, cents in zip(cut, run[: len(cut)], strict=True):
                lines[target] = lines[target].rstrip() + lines[cents].strip()
                lines[cents] = ""
            waiting = [w for w in waiting if w not in cut]
            continue
        at += 1
    return lines


def read_lines(text: str) -> list[Line]:
    lines = []
    for number, raw in enumerate(rejoin_cents(text.replace("\f", "\n").splitlines())):
        shown = " ".join(unicodedata.normalize("NFKC", raw).split())
        key = "".join(plain(c) for c in money.fix_digits(shown))
        found = money.amounts(key)
        label = key
        for a in reversed(found):
            label = label[: a.start] + " " * (a.end - a.start) + label[a.end :]
        lines.append(Line(number, shown, key, found, label))
    return lines


def amount_only(line: Line) -> bool:
    """Amounts and nothing else (a rate is something: `10% 7,91 0,79` is a tax row)."""
    rest = money.CURRENCY_WORD.sub(" ", line.label)
    return bool(line.amounts) and sum(c.isalpha() for c in rest) < 2 and "%" not in rest


def _wants(line: Line) -> int:
    """How much a line without amounts looks like one whose amount was torn away: a
    total, subtotal, tax, payment or change label does (2), an address, phone, date,
    tax id, heading or footer does not (-1), anything else may (an item: 0)."""
    label = INCLUDED.sub(" ", line.label)
    if re.fullmatch(r"\W*(?:IMPORTE|AMOUNT|PRECIO|PRICE)\W*", label):
        return -1  # a column's heading
    if FOOTER.search(line.key):
        return -1
    if total_strength(line.label)[0] or SUBTOTAL.search(label) or TAX.search(label):
        return 2
    if names_other(label):
        return 2
    key = line.key
    if (
        is_address(key)
        or PHONE.search(key)
        or TAXID_LABEL.search(key)
        or NOT_MERCHANT.search(key)
        or COLUMNS.search(key)
        or dates.dates(key)
    ):
        return -1
    return 0


def _lost(line: Line) -> bool:
    """No amount, or only a unit price (`2 x 1,50`): the line's own amount is elsewhere."""
    return all(re.search(r"\d\s*[X×*]\s*$", line.key[: a.start]) for a in line.amounts)


def _adds_up(labels: list[Line], wants: list[float], values: list[Line]) -> float:
    """5 when, paired in this order, the items' amounts add up to a total's."""
    items: list[Decimal] = []
    for label, want, value in zip(labels, wants, values, strict=False):
        amount = value.amounts[-1].value
        if want == 2 and total_strength(label.label)[0] >= 2:
            return 5.0 if len(items) >= 2 and sum(items) == amount else 0.0
        if want == 0:
            items.append(amount)
    return 0.0


def _window(labels: list[Line], wants: list[float], values: list[Line]) -> tuple[int, float]:
    """Where the run of labels that lost `values` starts, and how well it fits: the most
    wanting, and adding up, the nearest to the values among equals."""
    size = min(len(labels), len(values))
    fits = [
        (sum(wants[s : s + size]) + _adds_up(labels[s:], wants[s:], values), s)
        for s in range(len(labels) - size + 1)
    ]
    fit, start = max(fits)
    return start, fit


def attach_torn(lines: list[Line]) -> dict[int, Row]:
    """Each line's row of amounts. Where OCR put amounts on lines of their own, apart
    from their labels (one torn onto the next line, or a column of amounts after a
    column of labels), each run of such lines goes back to the lines without amounts
    before it (since the previous run): to the run of as many of them that most looks
    like it lost its amounts (_wants; the top line is the merchant's, and lines after
    the last total or payment are footers), the nearest one among equals; where none
    does, the amounts stand alone."""
    rows = {line.index: Row(line.amounts, line.index) for line in lines if line.amounts}
    printed = [line for line in lines if line.text]
    since, at = -1, 0
    while at < len(printed):
        if not amount_only(printed[at]):
            at += 1
            continue
        values = []
        while at < len(printed) and amount_only(printed[at]):
            values.append(printed[at])
            at += 1
        labels = [
            line
            for line in printed
            if since < line.index < values[0].index and _lost(line) and line.letters >= 2
        ]
        since = values[-1].index
        if not labels:
            continue
        wants = [float(_wants(line)) for line in labels]
        if labels[0] is printed[0]:
            wants[0] = min(wants[0], -1.0)  # the top line: the merchant's name
        strong = [k for k, w in enumerate(wants) if w == 2]
        for k in range(strong[-1] + 1 if strong else len(wants), len(wants)):
            wants[k] = min(wants[k], -0.5)  # after the total and its payment: a footer
        start, fit = _window(labels, wants, values)
        if fit < 0:
            continue  # no labels here lost these amounts: they stand alone
        for label, value in zip(labels[start:], values, strict=False):
            rows[label.index] = Row([*label.amounts, *value.amounts], value.index, torn=True)
            rows.pop(value.index, None)
    return rows


class OcrConfidence:
    """How sure OCR was of each printed token, from its words (matched to the text's
    tokens in order), and the weighing of a field's confidence by it."""

    def __init__(self, lines: list[Line], words: list[tuple[str, float]] | None) -> None:
        self._conf: dict[tuple[int, int], float] = {}  # (line, character) -> 0..1
        self.given = bool(words)
        if not words:
            return
        spans = [
            (line.index, m.start(), m.end(), m.group(0))
            for line in lines
            for m in re.finditer(r"\S+", line.text)
        ]
        said = [" ".join(unicodedata.normalize("NFKC", w).split()) for w, _ in words]
        matcher = SequenceMatcher(None, [s[3] for s in spans], said, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                number, start, _, _ = spans[block.a + k]
                self._conf[(number, start)] = max(0.0, min(1.0, words[block.b + k][1] / 100))
        known = list(self._conf.values())
        self._mean = sum(known) / len(known) if known else 0.5
        self._starts: dict[int, list[tuple[int, int]]] = {}
        for number, start, end, _ in spans:
            self._starts.setdefault(number, []).append((start, end))

    def of(self, line: int, start: int = 0, end: int | None = None) -> float:
        if not self.given:
            return 1.0
        found = [
            self._conf.get((line, s), self._mean)
            for s, e in self._starts.get(line, [])
            if (end is None or s < end) and e > start
        ]
        return min(found) if found else self._mean

    def weigh(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Each field's confidence times (0.4 + 0.6 × OCR's), and the private `_at`
        (where it was read) dropped."""
        out: dict[str, Any] = {}
        for name, value in fields.items():
            if isinstance(value, list):
                out[name] = [self._one(item) for item in value]
            else:
                out[name] = self._one(value) if value is not None else None
        return out

    def _one(self, found: dict[str, Any]) -> dict[str, Any]:
        at = found.pop("_at", None)
        factor = 1.0 if at is None or not self.given else 0.4 + 0.6 * self.of(*at)
        found["confidence"] = round(max(0.0, min(1.0, found["confidence"] * factor)), 2)
        return found
