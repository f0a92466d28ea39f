"""Generated receipts with their ground truth, as OCR text: a Spanish supermarket, a
bakery, a restaurant with its IVA breakdown, an English shop, a US diner, and invoices
with a NIF or a VAT number; amounts in both number formats (`1.234,56`, `1,234.56`),
dates in every way receipts print them, and OCR's noise on some (O for 0, a stray space
in an amount, a label and its amount torn onto two lines, dropped accents, stray marks).
Deterministic: the same seed gives the same receipts. Used by tests/cells/test_receipt.py
(on text, and rendered to images for the real OCR) and tests/flows/test_defaults.py."""

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from stdnum.es import cif, dni
from stdnum.iso7064 import mod_11_10

CENT = Decimal("0.01")
MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
MONTHS_ES = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
)
MONTHS_EN = "January February March April May June July August September October November December"
# A hardware shop's ticket with no total printed: its fields but the amount are there.
NO_TOTAL = """Ferretería López
C/ Mayor 3, Toledo
NIF: B12345674
Fecha: 12/11/2026
Tornillos 4x40            2,50
Cola blanca               3,10
"""
SURNAMES = [
    "Muñoz", "García", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Fernández",
    "Ruiz", "Díaz", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez", "Castillo",
]  # fmt: skip
PLACES = ["Sol", "Olivo", "Puerto", "Rincón", "Mercado", "Faro", "Roble", "Parque", "Molino"]
ENGLISH = ["Harbour", "Oakwood", "Riverside", "Maple", "Kingsley", "Bramble", "Cedar", "Elm"]
GROCERIES_ES = [
    "Leche entera 1L", "Pan de molde", "Huevos L docena", "Aceite de oliva 1L", "Tomate frito",
    "Yogur natural x4", "Plátano de Canarias", "Manzana golden", "Arroz redondo 1kg",
    "Café molido", "Queso manchego", "Jamón cocido", "Agua mineral 1,5L", "Atún en aceite",
    "Galletas María", "Detergente líquido", "Papel higiénico", "Pechuga de pollo",
]  # fmt: skip
BAKERY_ES = [
    "Café con leche", "Tostada con tomate", "Zumo de naranja", "Croissant", "Napolitana de chocolate",
    "Barra de pan", "Ensaimada", "Magdalenas", "Té verde", "Bizcocho casero", "Cortado",
]  # fmt: skip
RESTAURANT_ES = [
    "Menú del día", "Paella valenciana", "Ensalada mixta", "Croquetas caseras", "Pulpo a la gallega",
    "Tortilla de patatas", "Botella de vino", "Agua 50cl", "Caña", "Flan casero", "Café solo",
]  # fmt: skip
SHOP_EN = [
    "Notebook A5", "Ballpoint pens x3", "Paperback novel", "Greeting card", "Sourdough loaf",
    "Free range eggs", "Oat milk 1L", "Cheddar 200g", "Tea bags x80", "Batteries AA x4",
]  # fmt: skip
DINER_US = [
    "Pancakes", "Coffee", "Bacon & Eggs", "Cheeseburger", "French Fries", "Iced Tea",
    "Club Sandwich", "Apple Pie", "Milkshake", "Caesar Salad", "Orange Juice",
]  # fmt: skip
SERVICES = [
    "Revisión general del vehículo", "Cambio de aceite y filtro", "Mano de obra (2 h)",
    "Pastillas de freno delanteras", "Consultoría técnica", "Licencia de software anual",
    "Horas de desarrollo", "Mantenimiento mensual", "Diseño gráfico", "Transporte",
]  # fmt: skip


@dataclass
class Receipt:
    """One receipt as OCR would give its text, and what is true about it."""

    name: str
    text: str
    total: Decimal
    currency: str
    date: date
    merchant: str
    tax_id: str | None
    lines: list[tuple[str, Decimal]]
    noise: list[str] = field(default_factory=list)


def _money(value: Decimal, style: str, thousands: bool = True) -> str:
    """`1.234,56` (es) or `1,234.56` (en)."""
    whole, cents = f"{value.quantize(CENT):.2f}".split(".")
    groups = f"{int(whole):,}" if thousands else whole
    if style == "es":
        return groups.replace(",", ".") + "," + cents
    return groups + "." + cents


def _price(r: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(r.uniform(low, high), 2))).quantize(CENT)


def _cif(r: random.Random) -> str:
    body = r.choice("ABGB") + "".join(r.choice("0123456789") for _ in range(7))
    return body + cif.calc_check_digits(body)[0]  # A, B, G: a digit


def _dni(r: random.Random) -> str:
    digits = "".join(r.choice("0123456789") for _ in range(8))
    return digits + dni.calc_check_digit(digits)


def _de_vat(r: random.Random) -> str:
    digits = str(r.randint(1, 9)) + "".join(r.choice("0123456789") for _ in range(7))
    return "DE" + digits + mod_11_10.calc_check_digit(digits)


def _day(r: random.Random) -> date:
    return date(2024, 1, 1) + timedelta(days=r.randrange(0, 3 * 365))


def _date_es(r: random.Random, d: date) -> str:
    month = MONTHS_ES.split()[d.month - 1]
    return r.choice(
        [
            f"{d:%d/%m/%Y}",
            f"{d:%d-%m-%y}",
            f"{d:%d.%m.%Y}",
            f"{d:%Y-%m-%d}",
            f"{d.day} de {month} de {d.year}",
            f"{d.day:02d}-{month[:3]}-{d.year}",
            f"{d:%d/%m/%y}",
        ]
    )


def _date_en(r: random.Random, d: date, us: bool) -> str:
    month = MONTHS_EN.split()[d.month - 1]
    numeric = f"{d:%m/%d/%Y}" if us else f"{d:%d/%m/%Y}"
    return r.choice(
        [
            numeric,
            f"{month[:3]} {d.day}, {d.year}",
            f"{d.day} {month[:3]} {d.year}",
            f"{month} {d.day}, {d.year}",
            f"{d:%Y-%m-%d}",
        ]
    )


def _row(label: str, amount: str, width: int = 34) -> str:
    return f"{label} {' ' * max(1, width - len(label) - len(amount))}{amount}"


def _items(
    r: random.Random, names: list[str], count: int, low: float, high: float
) -> list[tuple[str, int, Decimal]]:
    chosen = r.sample(names, count)
    return [(name, r.choice([1, 1, 1, 2, 3]), _price(r, low, high)) for name in chosen]


def _split_vat(total: Decimal, rate: int) -> tuple[Decimal, Decimal]:
    base = (total / (1 + Decimal(rate) / 100)).quantize(CENT, ROUND_HALF_UP)
    return base, total - base


def supermarket_es(r: random.Random, style: str) -> Receipt:
    name = (
        r.choice(["SUPERMERCADOS", "HIPERMERCADO", "ALIMENTACIÓN", "MERCADO"])
        + " "
        + r.choice(SURNAMES).upper()
    )
    tax_id, day = _cif(r), _day(r)
    bought = _items(r, GROCERIES_ES, r.randint(3, 9), 0.5, 9.0)
    lines = [(n, (p * q).quantize(CENT)) for n, q, p in bought]
    total = sum((a for _, a in lines), Decimal(0))
    base, vat = _split_vat(total, 10)

    def money(v: Decimal) -> str:
        return _money(v, style)

    out = [
        name + " S.A.",
        f"C/ {r.choice(PLACES)} {r.randint(1, 200)}",
        f"{r.randint(10000, 52999)} {r.choice(['Madrid', 'Sevilla', 'Valencia', 'Bilbao'])}",
        f"Teléfono: 9{r.randint(10, 99)} {r.randint(100, 999)} {r.randint(100, 999)}",
        f"NIF: {tax_id}",
        f"{_date_es(r, day)} {r.randint(8, 21):02d}:{r.randint(0, 59):02d}  OP: {r.randint(100000, 999999)}",
        f"FACTURA SIMPLIFICADA: {r.randint(1000, 9999)}-{r.randint(10, 99)}-{r.randint(100000, 999999)}",
        "",
    ]
    for (n, q, p), (_, amount) in zip(bought, lines, strict=True):
        out.append(
            _row(f"{q} {n.upper()}" if q > 1 else n.upper(), money(amount))
            if q == 1 or r.random() < 0.5
            else _row(f"{n.upper()} {q} x {money(p)}", money(amount))
        )
    out += [
        "",
        _row("TOTAL (€)", money(total)),
        _row("TARJETA BANCARIA", money(total)),
        "",
        "IVA  BASE IMPONIBLE (€)  CUOTA (€)",
        f"10%      {money(base)}        {money(vat)}",
        _row("TOTAL", f"{money(base)} {money(vat)}"),
        "",
        "SE ADMITEN DEVOLUCIONES CON TICKET",
    ]
    return Receipt(
        "supermarket-es", "\n".join(out), total, "EUR", day, name + " S.A.", tax_id, lines
    )


def bakery_es(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(['Panadería', 'Pastelería', 'Cafetería', 'Horno'])} {r.choice(SURNAMES)}"
    day = _day(r)
    bought = _items(r, BAKERY_ES, r.randint(2, 5), 0.9, 4.5)
    lines = [(n if q == 1 else f"{q} x {n}", (p * q).quantize(CENT)) for n, q, p in bought]
    total = sum((a for _, a in lines), Decimal(0))
    out = [
        name,
        f"{r.choice(['Calle', 'Avda.', 'Plaza'])} {r.choice(PLACES)} {r.randint(1, 90)}, {r.choice(['Madrid', 'Toledo', 'León'])}",
        f"Fecha: {_date_es(r, day)}",
        "",
    ]
    out += [_row(d, _money(a, style)) for d, a in lines]
    euro = r.choice(["{} EUR", "{} €", "{}€", "€{}", "{}"])
    out += [
        "",
        f"Total a pagar: {euro.format(_money(total, style))}",
        "IVA incluido",
        "¡Gracias por su visita!",
    ]
    return Receipt("bakery-es", "\n".join(out), total, "EUR", day, name, None, lines)


def restaurant_es(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(['Restaurante', 'Bar', 'Mesón', 'Taberna'])} {r.choice(['El', 'La', 'Los'])} {r.choice(PLACES)}"
    tax_id, day = _cif(r), _day(r)
    bought = _items(r, RESTAURANT_ES, r.randint(3, 7), 1.5, 18.0)
    lines = [(n, (p * q).quantize(CENT)) for n, q, p in bought]
    base = sum((a for _, a in lines), Decimal(0))
    vat = (base * Decimal("0.10")).quantize(CENT, ROUND_HALF_UP)
    total = base + vat

    def money(v: Decimal) -> str:
        return _money(v, style)

    out = [
        name,
        f"{r.choice(['C/', 'Avda.', 'Paseo'])} {r.choice(SURNAMES)} {r.randint(1, 99)}",
        f"{r.randint(10000, 52999)} {r.choice(['Málaga', 'Cádiz', 'Granada'])}",
        f"CIF {tax_id}  Tel. 95{r.randint(1000000, 9999999)}",
        f"Mesa {r.randint(1, 30)}   Comensales {r.randint(1, 6)}",
        f"Fecha {_date_es(r, day)}   Hora {r.randint(13, 23)}:{r.randint(10, 59)}",
        "-" * 34,
        "UDS  DESCRIPCIÓN          IMPORTE",
    ]
    out += [
        f"{q}  {_row(n, money(p * q), 29)}" if q > 1 else f"1  {_row(n, money(p), 29)}"
        for n, q, p in bought
    ]
    out += [
        "-" * 34,
        _row("Base imponible", money(base)),
        _row("IVA 10%", money(vat)),
        _row(
            r.choice(["TOTAL", "TOTAL EUROS", "IMPORTE TOTAL", "TOTAL A PAGAR"]),
            money(total) + r.choice([" €", "", " EUR"]),
        ),
        _row("Entregado", money(Decimal(int(total) + 5))),
        _row("Cambio", money(Decimal(int(total) + 5) - total)),
        "Propina no incluida. Gracias",
    ]
    return Receipt("restaurant-es", "\n".join(out), total, "EUR", day, name, tax_id, lines)


def store_en(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(ENGLISH)} {r.choice(['Books', 'Stationers', 'Grocer', 'Hardware'])} Ltd"
    day = _day(r)
    vat_id = "GB980780684"
    bought = _items(r, SHOP_EN, r.randint(2, 6), 0.8, 15.0)
    lines = [(n, (p * q).quantize(CENT)) for n, q, p in bought]
    total = sum((a for _, a in lines), Decimal(0))
    vat = (total / 6).quantize(CENT, ROUND_HALF_UP)
    pound = r.choice(["£{}", "{}", "£ {}"])

    def money(v: Decimal) -> str:
        return pound.format(_money(v, style))

    out = [
        name,
        f"{r.randint(1, 99)} High Street",
        f"{r.choice(['London', 'Bristol', 'Leeds'])} {r.choice(['SW1A 1AA', 'BS1 4DJ', 'LS1 5AB'])}",
        f"VAT Reg No: {vat_id}",
        f"Date: {_date_en(r, day, us=False)}  {r.randint(9, 18):02d}:{r.randint(0, 59):02d}",
        "",
    ]
    out += [
        _row(n if q == 1 else f"{n} x{q}", money(a))
        for (n, q, _), (_, a) in zip(bought, lines, strict=True)
    ]
    out += [
        "",
        _row(r.choice(["TOTAL", "BALANCE DUE", "AMOUNT DUE", "Total"]), money(total)),
        _row("Card", money(total)),
        _row("VAT included 20%", money(vat)),
        "Thank you for shopping with us",
    ]
    return Receipt("store-en", "\n".join(out), total, "GBP", day, name, vat_id, lines)


def diner_us(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(['JOE', 'MARY', 'SAM', 'LUCY', 'BOB'])}'S {r.choice(['DINER', 'GRILL', 'CAFE', 'KITCHEN'])}"
    day = _day(r)
    bought = _items(r, DINER_US, r.randint(2, 6), 1.5, 14.0)
    lines = [(n, (p * q).quantize(CENT)) for n, q, p in bought]
    subtotal = sum((a for _, a in lines), Decimal(0))
    tax = (subtotal * Decimal("0.0625")).quantize(CENT, ROUND_HALF_UP)
    total = subtotal + tax

    def money(v: Decimal) -> str:
        return _money(v, "en")

    out = [
        name,
        f"{r.randint(100, 9999)} Main St",
        f"Springfield, IL {r.randint(60000, 62999)}",
        f"({r.randint(200, 999)}) 555-{r.randint(1000, 9999)}",
        f"{_date_en(r, day, us=True)} {r.randint(1, 12)}:{r.randint(10, 59)} PM",
        f"Server: {r.choice(['Ann', 'Tom', 'Kim'])}   Table {r.randint(1, 20)}",
        "",
    ]
    out += [_row(f"{q} {n}", money(a)) for (n, q, _), (_, a) in zip(bought, lines, strict=True)]
    out += [
        "",
        _row("Subtotal", money(subtotal)),
        _row("Sales Tax 6.25%", money(tax)),
        _row(r.choice(["Total", "TOTAL", "Amount Due", "GRAND TOTAL"]), "$" + money(total)),
        "",
        "Tip: ________",
        "Thank you! Come again",
    ]
    return Receipt("diner-us", "\n".join(out), total, "USD", day, name, None, lines)


def invoice_es(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(['Talleres', 'Servicios', 'Construcciones', 'Asesoría'])} {r.choice(SURNAMES)} S.L."
    tax_id, client_id, day = _cif(r), _dni(r), _day(r)
    done = r.sample(SERVICES, r.randint(1, 4))
    lines = [(d, _price(r, 40, 1800)) for d in done]
    base = sum((a for _, a in lines), Decimal(0))
    vat = (base * Decimal("0.21")).quantize(CENT, ROUND_HALF_UP)
    total = base + vat

    def money(v: Decimal) -> str:
        return _money(v, style)

    out = [
        "FACTURA",
        name,
        f"NIF: {tax_id}",
        f"Polígono {r.choice(PLACES)}, nave {r.randint(1, 40)}",
        f"{r.randint(10000, 52999)} {r.choice(['Zaragoza', 'Burgos', 'Murcia'])}",
        "",
        f"Factura nº: {day.year}/{r.randint(1, 999):03d}",
        f"Fecha de factura: {_date_es(r, day)}",
        f"Fecha de vencimiento: {_date_es(r, day + timedelta(days=30))}",
        "",
        "Cliente:",
        f"{r.choice(['Juan', 'Lucía', 'Pablo'])} {r.choice(SURNAMES)}",
        f"NIF: {client_id}",
        "",
        "Concepto                       Importe",
    ]
    out += [_row(d, money(a), 40) for d, a in lines]
    out += [
        "",
        _row("Base imponible", money(base), 40),
        _row("IVA 21%", money(vat), 40),
        _row("TOTAL FACTURA", money(total) + " €", 40),
        "",
        "Forma de pago: transferencia bancaria",
    ]
    return Receipt("invoice-es", "\n".join(out), total, "EUR", day, name, tax_id, lines)


def invoice_en(r: random.Random, style: str) -> Receipt:
    name = f"{r.choice(ENGLISH)} {r.choice(['Consulting', 'Software', 'Logistics'])} GmbH"
    tax_id, day = _de_vat(r), _day(r)
    done = r.sample(SERVICES[4:], r.randint(1, 3))
    lines = [(d, _price(r, 100, 4000)) for d in done]
    subtotal = sum((a for _, a in lines), Decimal(0))
    vat = (subtotal * Decimal("0.19")).quantize(CENT, ROUND_HALF_UP)
    total = subtotal + vat

    def money(v: Decimal) -> str:
        return _money(v, style)

    out = [
        name,
        f"{r.randint(1, 99)} Kaiserstrasse, 60311 Frankfurt",
        f"VAT ID: {tax_id}",
        "",
        "INVOICE",
        f"Invoice no. {r.randint(1000, 9999)}",
        f"Invoice date: {_date_en(r, day, us=False)}",
        f"Due date: {_date_en(r, day + timedelta(days=14), us=False)}",
        "Bill to: Northwind Ltd",
        "",
    ]
    out += [_row(d, money(a), 40) for d, a in lines]
    out += [
        "",
        _row("Subtotal", money(subtotal), 40),
        _row("VAT 19%", money(vat), 40),
        _row(r.choice(["Amount due", "Total", "Balance due"]), "EUR " + money(total), 40),
    ]
    return Receipt("invoice-en", "\n".join(out), total, "EUR", day, name, tax_id, lines)


LAYOUTS: list[tuple[Callable[[random.Random, str], Receipt], list[str]]] = [
    (supermarket_es, ["es", "es", "en"]),
    (bakery_es, ["es", "es", "en"]),
    (restaurant_es, ["es", "es", "en"]),
    (store_en, ["en"]),
    (diner_us, ["en"]),
    (invoice_es, ["es", "es", "en"]),
    (invoice_en, ["en", "es"]),
]


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _noise(r: random.Random, receipt: Receipt) -> Receipt:
    """OCR's kinds of noise, one or two per receipt, on the lines that matter."""
    lines = receipt.text.split("\n")
    kinds = r.sample(NOISE, r.randint(1, 2))
    for kind in kinds:
        total_at = next(
            (i for i, line in reversed(list(enumerate(lines))) if _is_total_line(line, receipt)),
            None,
        )
        if kind == "o-for-0" and total_at is not None and "0" in lines[total_at].split()[-1]:
            head, _, tail = lines[total_at].rpartition(" ")
            lines[total_at] = f"{head} {tail.replace('0', 'O')}"
        elif kind == "space" and total_at is not None:  # 12, 50
            lines[total_at] = re.sub(r"([.,])(\d{2}\D*)$", r"\1 \2", lines[total_at])
        elif kind == "torn" and total_at is not None:
            head, _, tail = lines[total_at].partition("  ")
            if not tail.strip():
                head, _, tail = lines[total_at].partition(": ")
            if tail.strip():
                lines[total_at : total_at + 1] = [head.strip(), tail.strip()]
        elif kind == "accents":
            lines = [_plain(line) for line in lines]
            receipt.merchant = _plain(receipt.merchant)
        elif kind == "stray":
            lines = [line + r.choice(["", "", " |", " .", "'"]) if line else line for line in lines]
            lines[0] = lines[0] + " |" if lines[0] == receipt.merchant else lines[0]
        elif kind == "letters" and total_at is not None:  # T0TAL, TOTA1
            misread = r.choice(["T0TAL", "TOTA1", "TOTAl"])
            lines[total_at] = re.sub(r"(?i)total", misread, lines[total_at], count=1)
        elif kind == "case":
            at = lines.index(receipt.merchant) if receipt.merchant in lines else None
            lines = [line.lower() if r.random() < 0.5 else line.upper() for line in lines]
            receipt.merchant = lines[at] if at is not None else receipt.merchant
        elif kind == "logo":
            lines[0:0] = [
                r.choice(["*" * 20, "=" * 24, "¡BIENVENIDO!", "TICKET", "Welcome", "- - - - -"])
            ]
        elif kind == "columns":  # labels in one block, their amounts in another
            split = [re.match(r"^(.*?\S)\s{2,}(\S.*)$", line) for line in lines]
            if sum(m is not None for m in split) >= 2:
                left = [m.group(1) if m else line for m, line in zip(split, lines, strict=True)]
                right = [m.group(2) for m in split if m]
                lines = [*left, "", *right]
        elif kind == "blank":
            lines = [x for line in lines for x in ([line, ""] if r.random() < 0.3 else [line])]
    receipt.text = "\n".join(lines)
    receipt.noise = kinds
    return receipt


NOISE = [
    "o-for-0",
    "space",
    "torn",
    "accents",
    "stray",
    "blank",
    "letters",
    "case",
    "logo",
    "columns",
]


def _is_total_line(line: str, receipt: Receipt) -> bool:
    value = _money(receipt.total, "es"), _money(receipt.total, "en")
    upper = line.upper()
    return (
        any(v in line for v in value)
        and any(w in upper for w in ("TOTAL", "A PAGAR", "DUE", "IMPORTE"))
        and "SUB" not in upper
    )


def generate(count: int, seed: int = 14, noisy: float = 0.4) -> list[Receipt]:
    """`count` receipts, the layouts in turn, a share `noisy` of them with OCR noise."""
    r = random.Random(seed)
    made = []
    for n in range(count):
        layout, styles = LAYOUTS[n % len(LAYOUTS)]
        receipt = layout(r, r.choice(styles))
        receipt.name = f"{receipt.name}-{n}"
        if r.random() < noisy:
            receipt = _noise(r, receipt)
        made.append(receipt)
    return made


def need_tesseract() -> None:
    """Skip (fail under CI) where the real OCR cannot run."""
    import os
    import shutil

    import pytest

    if shutil.which("tesseract") is None or not os.path.exists(MONO):
        message = "tesseract-ocr and fonts-dejavu-core are needed (make test installs them)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def image(text: str, size: int = 22) -> bytes:
    """The receipt printed: black DejaVu Sans Mono on white, as a PNG."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(MONO, size)
    lines = text.split("\n")
    height = round(size * 1.55)
    width = max(int(font.getlength(line)) for line in lines) + 60
    page = Image.new("L", (width, height * len(lines) + 60), 255)
    draw = ImageDraw.Draw(page)
    for n, line in enumerate(lines):
        draw.text((30, 30 + height * n), line, font=font, fill=0)
    out = io.BytesIO()
    page.save(out, format="PNG")
    return out.getvalue()
