"""The rules RECEIPT_FIELDS reads each field by (the steps are in receipt.py), over the
lines of receipt_lines.py and the words of receipt_words.py."""

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tzzr.cells import dates, money, taxid
from tzzr.cells.money import Amount
from tzzr.cells.receipt_lines import Line, Row, amount_only
from tzzr.cells.receipt_words import (
    AMERICAN,
    CHANGE,
    CLIENT,
    COUNTRY_CURRENCY,
    DATE_LABEL,
    INCLUDED,
    NOT_MERCHANT,
    NOT_THE_DATE,
    NOT_TOTAL,
    PAYMENT,
    PHONE,
    QUANTITY,
    RATE,
    SPANISH,
    SUBTOTAL,
    TAX,
    TAX_TOTAL,
    TAXID_LABEL,
    is_address,
    names_other,
    total_strength,
)


@dataclass
class Context:
    currency: str | None  # the one the amounts carry most, if any
    spanish: bool
    month_first: bool


def context_of(lines: list[Line], lang: str | None) -> Context:
    marks = Counter(a.currency for line in lines for a in line.amounts if a.currency)
    for line in lines:
        marks.update(c for c in money.currencies(line.label))
    text = "\n".join(line.key for line in lines)
    spanish = len(SPANISH.findall(text)) >= 2 or (lang or "").lower().startswith("es")
    currency = marks.most_common(1)[0][0] if marks else None
    month_first = currency == "USD" or bool(AMERICAN.search(text))
    return Context(currency, spanish, month_first and not spanish)


def _number(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _row_value(line: Line, row: Row, after: int) -> Amount | None:
    """The total's amount on its row: the last one after its label, stopping at a
    payment or change word further on the line (`TOTAL 8,70 ENTREGADO 10,00`)."""
    amounts = [a for a in row.amounts if a.value > 0]
    if not row.torn:
        stop = NOT_TOTAL.search(line.label, after)
        end = stop.start() if stop else len(line.key)
        amounts = [a for a in amounts if a.start >= after and a.end <= end] or amounts
    return amounts[-1] if amounts else None


def _item_sum(lines: list[Line], rows: dict[int, Row]) -> Decimal | None:
    found = items(lines, rows)
    if len(found) < 2:
        return None
    return sum((Decimal(str(item["amount"])) for item in found), Decimal(0))


def total(lines: list[Line], rows: dict[int, Row], context: Context) -> dict[str, Any] | None:
    """The amount a TOTAL / IMPORTE / A PAGAR / AMOUNT DUE line gives (not SUBTOTAL, IVA,
    TAX, cash or change); among several, the one the rest agrees with (subtotal + tax,
    the lines' sum, a card payment), then the strongest words, then the largest."""
    sub = subtotal(lines, rows)
    tax_found = tax(lines, rows)
    paid = [
        a.value
        for line in lines
        if PAYMENT.search(line.label) and line.index in rows
        for a in rows[line.index].amounts
    ]
    change = [
        a.value
        for line in lines
        if CHANGE.search(line.label) and line.index in rows
        for a in rows[line.index].amounts
    ]
    summed = _item_sum(lines, rows)
    candidates = []
    for line in lines:
        strength, after = total_strength(line.label)
        row = rows.get(line.index)
        if not strength or row is None:
            continue
        amount = _row_value(line, row, after)
        if amount is None:
            continue
        value, checks = amount.value, []
        if sub and tax_found:
            both = Decimal(str(sub["value"])) + Decimal(str(tax_found["value"]))
            if abs(both - value) <= Decimal("0.011"):
                checks.append("subtotal+tax")
        if summed is not None and summed == value:
            checks.append("lines")
        if value in paid or any(p - c == value for p in paid for c in change):
            checks.append("payment")
        score = strength + (0.5 if amount.currency else 0) + len(checks) - 0.5 * row.torn
        candidates.append((score, value, line, row, amount, checks))
    if not candidates:
        return _total_from_sum(lines, rows, summed, paid, taxed=tax_found is not None)
    score, value, line, row, amount, checks = max(candidates, key=lambda c: (c[0], c[1]))
    rivals = {c[1] for c in candidates if c[0] == score and c[1] != value}
    confidence = min(0.99, 0.5 + 0.1 * score) * (0.8 if rivals else 1.0)
    return {
        "value": _number(value),
        "confidence": confidence,
        "text": line.text if not row.torn else f"{line.text} {lines[row.source].text}",
        "checks": checks,
        "_at": (row.source, amount.start, amount.end),
    }


def _total_from_sum(
    lines: list[Line],
    rows: dict[int, Row],
    summed: Decimal | None,
    paid: list[Decimal],
    taxed: bool,
) -> dict[str, Any] | None:
    """No line names the total: a payment of the lines' sum still is one, and so is an
    amount alone that is their sum on a receipt without tax lines (with them, it is the
    base)."""
    if summed is None or summed <= 0:
        return None
    for line in lines:
        row = rows.get(line.index)
        if (
            row is not None
            and any(a.value == summed for a in row.amounts)
            and (PAYMENT.search(line.label) or summed in paid or (amount_only(line) and not taxed))
        ):
            source = next(a for a in row.amounts if a.value == summed)
            return {
                "value": _number(summed),
                "confidence": 0.5,
                "text": line.text,
                "checks": ["lines"],
                "_at": (row.source, source.start, source.end),
            }
    return None


def breakdown(lines: list[Line], rows: dict[int, Row]) -> list[tuple[Line, Amount, Amount]]:
    """The rows of a tax breakdown (`10%  7,91  0,79`, `IVA 21% s/ 100,00: 21,00`): a
    rate and two amounts of which one is the rate of the other (the base and its tax),
    whatever the columns' order."""
    found = []
    for line in lines:
        row = rows.get(line.index)
        rate = RATE.search(line.label)
        if row is None or rate is None or len(row.amounts) < 2:
            continue
        share = Decimal(rate.group(1).replace(",", ".")) / 100
        pairs = [
            (base, part)
            for base in row.amounts
            for part in row.amounts
            if base is not part
            and base.value > 0
            and abs(base.value * share - part.value) <= Decimal("0.02")
        ]
        if pairs:
            found.append((line, *pairs[0]))
    return found


def _sum_of(found: list[tuple[Line, Amount]], confidence: float) -> dict[str, Any] | None:
    if not found:
        return None
    value = sum((amount.value for _, amount in found), Decimal(0))
    line, first = found[0]
    return {
        "value": _number(value),
        "confidence": confidence,
        "text": " / ".join(line.text for line, _ in found),
        "_at": (line.index, first.start, first.end),
    }


def subtotal(lines: list[Line], rows: dict[int, Row]) -> dict[str, Any] | None:
    """A SUBTOTAL / BASE IMPONIBLE line's amount; else the bases of a tax breakdown."""
    table = breakdown(lines, rows)
    in_table = {r[0].index for r in table}
    stated = labelled([line for line in lines if line.index not in in_table], rows, SUBTOTAL)
    return stated or _sum_of([(line, base) for line, base, _ in table], 0.75)


def labelled(lines: list[Line], rows: dict[int, Row], pattern: re.Pattern[str]) -> Any:
    """The last amount of the first line whose label `pattern` finds."""
    for line in lines:
        row = rows.get(line.index)
        if row is not None and pattern.search(line.label):
            amount = row.amounts[-1]
            return {
                "value": _number(amount.value),
                "confidence": 0.8 - 0.2 * row.torn,
                "text": line.text,
                "_at": (row.source, amount.start, amount.end),
            }
    return None


def tax(lines: list[Line], rows: dict[int, Row]) -> dict[str, Any] | None:
    """A TOTAL IVA / TAX TOTAL line's amount; else the sum of the IVA / TAX / VAT lines'
    (one per rate), not the lines that only say it is included."""
    stated = labelled(lines, rows, TAX_TOTAL)
    if stated is not None:
        return dict(stated)
    table = breakdown(lines, rows)
    if table:
        return _sum_of([(line, part) for line, _, part in table], 0.75)
    found = []
    for line in lines:
        row = rows.get(line.index)
        label = INCLUDED.sub(" ", line.label)
        if row is None or not TAX.search(label) or SUBTOTAL.search(label):
            continue
        if total_strength(line.label)[0] >= 2 and not TAX_TOTAL.search(label):
            continue  # TOTAL (IVA 10%): the total
        found.append((line, row, row.amounts[-1]))
    if not found:
        return None
    value = sum((a.value for _, _, a in found), Decimal(0))
    line, row, amount = found[0]
    return {
        "value": _number(value),
        "confidence": 0.7 if len(found) == 1 else 0.6,
        "text": " / ".join(f[0].text for f in found),
        "_at": (row.source, amount.start, amount.end),
    }


def currency(
    lines: list[Line],
    total_found: dict[str, Any] | None,
    context: Context,
    tax_id_found: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """The total's own symbol or code; else the one the amounts carry most; else the
    tax id's country's (a UK VAT number: GBP), or EUR for a Spanish text."""
    if total_found is not None:
        number = total_found["_at"][0]
        own = [a.currency for a in lines[number].amounts if a.currency]
        own += money.currencies(lines[number].label)
        if own:
            return {"value": own[-1], "confidence": 0.95, "_at": total_found["_at"]}
    if context.currency is not None:
        return {"value": context.currency, "confidence": 0.85}
    country = tax_id_found["country"] if tax_id_found else None
    if country in COUNTRY_CURRENCY:
        return {"value": COUNTRY_CURRENCY[country], "confidence": 0.6}
    if context.spanish:
        return {"value": "EUR", "confidence": 0.5}  # a Spanish receipt without a symbol
    return None


def date(lines: list[Line], context: Context) -> dict[str, Any] | None:
    """The receipt's date: a labelled one first (FECHA, DATE), never a due or expiry
    date if another is there, else the first one printed."""
    best: tuple[float, int, dates.Found, Line] | None = None
    for line in lines:
        for found in dates.dates(line.key, context.month_first):
            score = 1.0 + (1.0 if DATE_LABEL.search(line.key[: found.start]) else 0.0)
            score -= 1.5 if NOT_THE_DATE.search(line.key) else 0.0
            score -= 0.0 if found.certain else 0.2
            if best is None or score > best[0]:
                best = (score, line.index, found, line)
    if best is None:
        return None
    score, number, found, line = best
    confidence = (0.9 if score >= 1.8 else 0.8 if score >= 0.8 else 0.5) * (
        1.0 if found.certain else 0.85
    )
    return {
        "value": found.value.isoformat(),
        "confidence": confidence,
        "text": line.text[found.start : found.end],
        "_at": (number, found.start, found.end),
    }


def merchant(lines: list[Line]) -> dict[str, Any] | None:
    """The first meaningful line at the top: not an address, a phone number, a tax id,
    a date, a web address or a receipt's own heading (FACTURA, TICKET, RECEIPT), before
    the first line with an amount; on a page with no amount, nobody's."""
    if not any(line.amounts for line in lines):
        return None
    seen = 0
    for line in lines:
        if line.amounts or seen >= 10:
            return None
        if not line.text:
            continue
        seen += 1
        key = line.key
        letters = sum(c.isalpha() for c in key)
        if letters < 3 or letters < 0.5 * len(key.replace(" ", "")):
            continue
        if (
            is_address(key)
            or PHONE.search(key)
            or TAXID_LABEL.search(key)
            or CLIENT.search(key)
            or NOT_MERCHANT.search(key)
            or any(t.valid for t in taxid.find(key))
            or dates.dates(key)
        ):
            continue
        name = re.sub(r"(?:\s+[.'|,]+)+$", "", line.text).strip(" *=-_|·:#~'\"")
        return {
            "value": name,
            "confidence": 0.85 if seen == 1 else 0.75 if seen == 2 else 0.6,
            "_at": (line.index, 0, None),
        }
    return None


def tax_id(lines: list[Line]) -> dict[str, Any] | None:
    """The issuer's tax id: the first valid one on a labelled line (NIF, CIF, VAT …) out
    of a customer's block, else the first valid one anywhere; a labelled one whose check
    digits fail is given with a low confidence (OCR may have misread a digit)."""
    client_until = -1
    valid_labelled, valid_any, invalid_labelled = [], [], []
    for line in lines:
        if CLIENT.search(line.key):
            client_until = line.index + 3
        found = taxid.find(line.key)
        labelled_line = bool(TAXID_LABEL.search(line.key))
        for candidate in found:
            entry = (line.index <= client_until, line, candidate)
            if candidate.valid and labelled_line:
                valid_labelled.append(entry)
            elif candidate.valid:
                valid_any.append(entry)
            elif labelled_line:
                invalid_labelled.append(entry)
    for pool, confidence in ((valid_labelled, 0.95), (valid_any, 0.7), (invalid_labelled, 0.3)):
        if pool:
            pool.sort(key=lambda e: (e[0], e[1].index))  # the issuer's before a client's
            in_client, line, candidate = pool[0]
            return {
                "value": candidate.value,
                "confidence": confidence * (0.8 if in_client else 1.0),
                "kind": candidate.kind,
                "country": candidate.country,
                "valid": candidate.valid,
                "_at": (line.index, 0, None),
            }
    return None


def _description(line: Line, row: Row) -> tuple[str, int | None]:
    cut = line.amounts[0].start if line.amounts else len(line.text)
    text = line.text[:cut]
    quantity = None
    found = QUANTITY.search(text.upper())
    if found:
        quantity = int(next(g for g in found.groups() if g))
        text = text[: found.start()] + " " + text[found.end() :]
    elif len(row.amounts) >= 2 and (trail := re.search(r"\s(\d{1,3})\s*$", text)):
        quantity = int(trail.group(1))  # DESCRIPTION  QTY  UNIT PRICE  AMOUNT
        text = text[: trail.start()]
    return " ".join(text.split()).strip(" .:*-"), quantity


def items(lines: list[Line], rows: dict[int, Row]) -> list[dict[str, Any]]:
    """The line items: lines with a description and an amount (the last one: a line
    total after a unit price) between the top and the first total, subtotal or tax."""
    end = len(lines)
    for line in lines:
        if line.index in rows and (total_strength(line.label)[0] or SUBTOTAL.search(line.label)):
            end = line.index
            break
    torn_sources = {row.source for row in rows.values() if row.torn}
    found = []
    for line in lines[:end]:
        row = rows.get(line.index)
        if row is None or (line.index in torn_sources and not line.letters):
            continue
        key = INCLUDED.sub(" ", line.label)
        if line.letters < 2 or names_other(key):
            continue
        if PHONE.search(key) or dates.dates(line.key) or TAXID_LABEL.search(key):
            continue
        description, quantity = _description(line, row)
        if sum(c.isalpha() for c in description) < 2:
            continue
        amount = row.amounts[-1]
        item = {"description": description, "amount": _number(amount.value)}
        if quantity is not None:
            item["quantity"] = quantity
        item.update(confidence=0.8 - 0.2 * row.torn, _at=(row.source, amount.start, amount.end))
        found.append(item)
    return found
