"""The words receipts are read by, as patterns over a line's `key` (upper case, no
accents): what names a total (and how strongly), a subtotal, a tax, a payment, change,
an address, a phone number, a tax id, a date, a heading or a footer; in Spanish and
English, with OCR's look-alikes where they matter (T0TAL, TOTA1)."""

import re
import unicodedata


def _ocr(pattern: str) -> re.Pattern[str]:
    """A keyword pattern that also matches OCR's look-alikes: 0 for O, 1 for I or L."""
    widened = pattern.replace("O", "[O0]").replace("I", "[I1|]").replace("L", "[L1|]")
    return re.compile(widened)


# 3 the final total's own words; 2 TOTAL; 1 a word that often names it
TOTAL_WORDS = [
    (
        3,
        _ocr(
            r"TOTAL\s*A\s*PAGAR|IMPORTE\s*(?:TOTAL|A\s*PAGAR)|TOTAL\s*IMPORTE|GRAND\s*TOTAL|"
            r"AMOUNT\s*(?:DUE|PAYABLE)|BALANCE\s*DUE|TOTAL\s*(?:DUE|TO\s*PAY|AMOUNT|FACTURA|"
            r"TICKET|COMPRA|VENTA|EUROS?|EUR|USD|GBP)\b|TOTAL\s*\(?[€$£]|\bA\s*PAGAR\b"
        ),
    ),
    (2, _ocr(r"\bTOTAL\b")),
    (1, _ocr(r"\bIMPORTE\b|\bAMOUNT\b|\bSUMA\b")),
]
INCLUDED = re.compile(
    r"\(?\s*(?:(?:IVA|I\.V\.A\.?|VAT|TAX|IMPUESTOS?)\s*INCL\w*\.?|INCL\w*\.?\s*(?:IVA|VAT|TAX))"
    r"\s*\)?"
)
NOT_TOTAL = re.compile(
    r"SUB\s*-?\s*T[O0]TAL|\bBASE\b|IMPONIBLE|\bCUOTA\b|\bIVA\b|I\.V\.A|\bTAX\b|\bVAT\b|\bIGIC\b|"
    r"\bNET[O]?\b|SIN\s*IVA|ENTREGAD|EFECTIVO|\bCAMBIO\b|\bCHANGE\b|\bCASH\b|TENDERED|\bTIP\b|"
    r"PROPINA|GRATUITY|DESCUENTO|DISCOUNT|AHORR|SAVING|PUNTOS|POINTS|RECARGO|DEVOLUCION|REFUND|"
    r"TARJETA(?:\s*(?:DE\s*)?(?:BANCARIA|CREDITO|DEBITO))?|\bVISA\b|MASTERCARD|\bCARD\b|CREDIT|DEBIT|\bPAGO\b|PAGADO|\bPAID\b"
)
PAYMENT = re.compile(
    r"TARJETA(?:\s*(?:DE\s*)?(?:BANCARIA|CREDITO|DEBITO))?|\bVISA\b|MASTERCARD|\bAMEX\b|\bCARD\b|CREDIT|DEBIT|CONTACTLESS|EFECTIVO|\bCASH\b|"
    r"ENTREGAD|TENDERED|\bPAGO\b|PAGADO|\bPAID\b"
)
CHANGE = re.compile(r"\bCAMBIO\b|\bCHANGE\b|\bDEVUELTO\b|\bVUELTA\b")
SUBTOTAL = re.compile(
    r"SUB\s*-?\s*T[O0]TAL|BASE\s*IMPONIBLE|TOTAL\s*SIN\s*IVA|\bNET\s*(?:AMOUNT|TOTAL)|"
    r"IMPORTE\s*NETO|TOTAL\s*NETO|\bBASE\b"
)
TAX = re.compile(r"\bIVA\b|I\.V\.A|\bTAX\b|\bVAT\b|\bIGIC\b|\bCUOTA\b")
TAX_TOTAL = re.compile(r"TOTAL\s*(?:IVA|I\.V\.A\.?|TAX|VAT|IMPUESTOS?|CUOTAS?)\b|\bTAX\s*TOTAL")
COLUMNS = re.compile(
    r"\b(?:CONCEPTO|DESCRIPCION|DESCRIPTION|CANTIDAD|CANT|QTY|PRECIO|PRICE|UNIT|UDS|ITEM|TIPO|"
    r"BASE|CUOTA|RATE)\b"
)
FOOTER = re.compile(
    r"GRACIAS|THANK|VUELVA|COME\s*AGAIN|WWW\.|HTTP|@|ATENDIDO|SERVED|PROPINA|\bTIP\b|FIRMA|"
    r"SIGNATURE|_{3}|CONSERVE|KEEP\s*THIS"
)
STREET = re.compile(
    r"^(?:C/|C\.\s|CL\.?\s|CALLE|AVDA|AV\.|AVENIDA|PLAZA|PZA|PASEO|P\.O|CTRA|CARRETERA|CAMINO|"
    r"RONDA|TRAVESIA|POL\.|POLIGONO|URB\.|GRAN\s*VIA)|"
    r"\b(?:STREET|ST\.|ROAD|RD\.?|AVENUE|AVE\.?|BLVD|BOULEVARD|LANE|DRIVE|SUITE|SQUARE|"
    r"HIGH\s*ST)(?:\s|,|$)|^\d{1,5}\s+[A-Z]+.*\b(?:ST|RD|AVE|DR|LN|WAY|PL)\b"
)
POSTCODE = re.compile(
    r"(?<![\d,.])\d{5}(?:-\d{4})?(?![\d,.])|\b[A-Z]{2}\s+\d{5}\b|"
    r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
)


def is_address(key: str) -> bool:
    """A postcode, or a street with a number, a comma or S/N (`Harbour Street Grocer`
    is a shop's name; `221 Harbour St, Bristol` its address)."""
    if POSTCODE.search(key):
        return True
    return bool(STREET.search(key) and re.search(r"\d|,|\bS/N\b", key))


PHONE = re.compile(
    r"\b(?:TEL|TLF|TFNO|TELF|TELEFONO|PHONE|FAX|MOVIL|MOBILE)\b|"
    r"(?:\+\d{1,3}[\s.\-]?)?(?:\d[\s.\-]?){9,}|\(\d{3}\)\s*\d{3}[\s\-]\d{4}"
)
TAXID_LABEL = re.compile(
    r"\b(?:N\.?\s?I\.?\s?F|C\.?\s?I\.?\s?F|N\.?I\.?E|VAT(?:\s*(?:NO|NUMBER|REG\w*|ID))?|"
    r"TAX\s*ID|UST-?ID\w*|USTIDNR|TVA)\b"
)
CLIENT = re.compile(
    r"\b(?:CLIENTE|CUSTOMER|BILL\s*TO|FACTURAR\s*A|DESTINATARIO|SOLD\s*TO|SHIP\s*TO)\b"
)
NOT_MERCHANT = re.compile(
    r"FACTURA|\bTICKET\b|RECIBO|RECEIPT|INVOICE|\bCOPIA\b|\bCOPY\b|BIENVENID|WELCOME|"
    r"\bMESA\b|\bTABLE\b|CAJER|\bCAJA\b|CASHIER|\bORDER\b|PEDIDO|OPERADOR|\bTPV\b|TERMINAL|"
    r"\bN[O°]\.?\s*\d|\bFECHA\b|\bDATE\b|\bHORA\b|\bTIME\b|WWW\.|HTTP|@|\.COM\b|\.ES\b|"
    r"\b\d{1,2}:\d{2}\b"
)
DATE_LABEL = re.compile(r"\bFECHA\b|\bDATE\b|\bDATA\b|\bDATUM\b|\bEMISION\b|\bISSUED\b")
NOT_THE_DATE = re.compile(
    r"CADUC|VENC|\bDUE\b|EXPIR|\bEXP\b|VALID|VALIDO|HASTA|UNTIL|BEST\s*BEFORE|CONSUMIR|ENTREGA"
)
SPANISH = re.compile(
    r"\bIVA\b|\bNIF\b|\bCIF\b|A\s*PAGAR|IMPORTE|GRACIAS|FACTURA|EFECTIVO|TARJETA(?:\s*(?:DE\s*)?(?:BANCARIA|CREDITO|DEBITO))?|CAMBIO|"
    r"\bCALLE\b|\bC/|AVDA|MADRID|BARCELONA|SEVILLA|VALENCIA"
)
AMERICAN = re.compile(r"SALES\s*TAX|\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b|\(\d{3}\)\s*\d{3}-\d{4}")
EURO_AREA = "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK"
COUNTRY_CURRENCY = {
    **dict.fromkeys(EURO_AREA.split(), "EUR"),
    **{"GB": "GBP", "XI": "GBP", "DK": "DKK", "SE": "SEK", "PL": "PLN", "CZ": "CZK"},
    **{"HU": "HUF", "RO": "RON", "BG": "BGN"},
}
RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")
QUANTITY = re.compile(r"^\s*(\d{1,3})\s*[X×*]\s+|\s+(\d{1,3})\s*[X×*]\s*$|\s+[X×*]\s*(\d{1,3})\s*$")


def plain(c: str) -> str:
    base = unicodedata.normalize("NFD", c)[0]
    upper = base.upper()
    return upper if len(upper) == 1 else base


def total_strength(label: str) -> tuple[float, int]:
    """How strongly a line's label names the total, and where its words end."""
    label = INCLUDED.sub(" ", label)
    if COLUMNS.findall(label) and len(COLUMNS.findall(label)) >= 2:
        return 0.0, 0
    for strength, pattern in TOTAL_WORDS:
        found = pattern.search(label)
        if found is None:
            continue
        before = label[: found.start()]
        if NOT_TOTAL.search(before + found.group(0)) or (
            strength < 3 and NOT_TOTAL.search(label[found.end() :].split("  ")[0])
        ):
            return 0.0, 0
        return float(strength), found.end()
    return 0.0, 0


def names_other(label: str) -> bool:
    """A label that is a tax, payment, change or subtotal word and little more (`IVA
    10%`, `Sales Tax`, `Cambio`; not `Cambio de aceite y filtro`, `Greeting card`)."""
    found = NOT_TOTAL.search(label)
    if found is None or re.search("DESCUENTO|DISCOUNT", label):
        return False
    rest = label[: found.start()] + label[found.end() :]
    return sum(c.isalpha() for c in rest) <= 6
