"""Tax identifiers on receipts and invoices: Spanish NIF (DNI), NIE and CIF, EU VAT
numbers (`ESB12345674`, `DE123456788`, …) and the UK's, each checked by its own check
digits through python-stdnum. OCR noise is forgiven where it cannot make a wrong number
valid: spaces, dots and dashes inside the number, and O or o read for 0, I or l for 1
(tried only when the number as read fails its check)."""

import re
from dataclasses import dataclass

from stdnum.es import cif, dni, nie
from stdnum.eu import vat
from stdnum.gb import vat as gb_vat

VAT_COUNTRIES = frozenset(code.upper() for code in vat.MEMBER_STATES) | {"GB", "EL"}
DIGIT_FIXES = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class TaxId:
    value: str  # compact: no spaces or punctuation, upper case
    kind: str  # nif, nie, cif, vat
    country: str  # ISO 3166 alpha-2 (GR's VAT prefix is EL)
    valid: bool  # its check digits hold


def classify(raw: str) -> TaxId | None:
    """The tax id that `raw` is, valid or not, or None when it has no tax id's shape."""
    compact = re.sub(r"[\s.\-/]", "", raw.upper())
    for text in dict.fromkeys((compact, _fixed(compact))):  # as read first
        found = _spanish(text) or _european(text)
        if found is not None and found.valid:
            return found
    return _spanish(compact) or _european(compact)


def _fixed(text: str) -> str:
    """O for 0 and I for 1 where a digit belongs: every position but the first and
    last of a Spanish id, and after a VAT number's country prefix."""
    if len(text) == 9:
        return text[0] + text[1:8].translate(DIGIT_FIXES) + text[8]
    if text[:2] in VAT_COUNTRIES and len(text) > 4:
        return text[:2] + _fixed(text[2:]) if text[:2] == "ES" else text
    return text


def _spanish(text: str) -> TaxId | None:
    if re.fullmatch(r"\d{8}[A-Z]", text):
        return TaxId(text, "nif", "ES", dni.is_valid(text))
    if re.fullmatch(r"[XYZ]\d{7}[A-Z]", text):
        return TaxId(text, "nie", "ES", nie.is_valid(text))
    if re.fullmatch(r"[ABCDEFGHJKLMNPQRSUVW]\d{7}[0-9A-J]", text):
        return TaxId(text, "cif", "ES", cif.is_valid(text))
    return None


def _european(text: str) -> TaxId | None:
    country = text[:2]
    if country not in VAT_COUNTRIES or not re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2,13}", text):
        return None
    if not any(c.isdigit() for c in text[2:]) or sum(c.isalpha() for c in text[2:]) > 3:
        return None  # a word that starts like a country code
    valid = gb_vat.is_valid(text) if country == "GB" else vat.is_valid(text)
    return TaxId(text, "vat", "GR" if country == "EL" else country, bool(valid))


def find(line: str) -> list[TaxId]:
    """The tax ids in a line of text, in order: runs of up to four letter-and-digit
    pieces joined across single spaces, dots or dashes (`B-1234567 4`), the longest
    valid one at each place; a piece alone that has an id's shape but fails its check
    is kept too (`valid` false), for a caller that knows the line names a tax id."""
    pieces = list(re.finditer(r"[A-Z0-9]+", line.upper()))
    found: list[TaxId] = []
    start = 0
    while start < len(pieces):
        best: tuple[int, TaxId] | None = None
        joined = ""
        for end in range(start, min(start + 4, len(pieces))):
            if end > start and pieces[end].start() - pieces[end - 1].end() > 2:
                break
            joined += pieces[end].group(0)
            if len(joined) > 15:
                break
            if len(joined) >= 8:
                taxid = classify(joined)
                if (
                    taxid is not None
                    and (taxid.valid or end == start)
                    and (best is None or taxid.valid or not best[1].valid)
                ):
                    best = (end, taxid)
        if best is None:
            start += 1
            continue
        found.append(best[1])
        start = best[0] + 1
    return found
