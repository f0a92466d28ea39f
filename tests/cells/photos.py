"""Photo-like captures with ground truth: receipts and letters in Spanish and English,
rendered on paper, laid on a table and photographed badly (turned, skewed, in perspective,
lit unevenly, noisy, blurred, saved as JPEG down to quality 60). Deterministic: a case's
name and seed give the same image on every machine with the same fonts. Used by
tests/cells/test_ocr_photos.py and bench/ocr_photos.py."""

import io
import math
import random
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONTS = "/usr/share/fonts/truetype/dejavu/"
MONO = FONTS + "DejaVuSansMono.ttf"
MONO_BOLD = FONTS + "DejaVuSansMono-Bold.ttf"
SANS = FONTS + "DejaVuSans.ttf"
SERIF = FONTS + "DejaVuSerif.ttf"

RECEIPT_ES = [
    ("Panadería Muñoz", None),
    ("Calle Mayor 12, Madrid", None),
    ("NIF B12345674", None),
    ("Fecha: 14/11/2026 09:42", None),
    ("Café con leche", "2,10"),
    ("Tostada con tomate", "3,40"),
    ("Zumo de naranja", "3,20"),
    ("Croissant de mantequilla", "1,85"),
    ("Base imponible", "9,59"),
    ("IVA 10%", "0,96"),
    ("TOTAL A PAGAR", "10,55 EUR"),
    ("¡Gracias por su visita!", None),
]
RECEIPT_EN = [
    ("Harbour Street Grocer", None),
    ("221 Harbour St, Bristol", None),
    ("VAT GB123456789", None),
    ("Date: Nov 14, 2026", None),
    ("Sourdough loaf", "4.20"),
    ("Free range eggs x12", "3.85"),
    ("Cheddar, mature", "5.10"),
    ("Apples (1.2 kg)", "2.64"),
    ("Subtotal", "15.79"),
    ("AMOUNT DUE", "15.79 GBP"),
    ("Thank you for shopping!", None),
]
RECEIPT_ES_2 = [
    ("Frutería El Huerto", None),
    ("Avda. de la Constitución 7", None),
    ("Sevilla", None),
    ("Plátanos de Canarias", "2,35"),
    ("Limones ecológicos", "1,90"),
    ("Pimientos del piquillo", "3,75"),
    ("Espárragos trigueros", "2,80"),
    ("IMPORTE", "10,80 €"),
    ("Pago con tarjeta", None),
]
LETTER_ES = [
    "Estimada señora Núñez:",
    "Le escribimos para confirmar la reunión del",
    "próximo jueves en nuestra oficina de Málaga.",
    "Por favor, traiga la documentación técnica",
    "y el informe de la campaña de otoño.",
    "Atentamente,",
    "José Ángel Peñalver",
]
LETTER_EN = [
    "Dear Mr. Thompson,",
    "Thank you for your letter of November 3rd.",
    "We are pleased to confirm the delivery of",
    "forty-two boxes to the Leeds warehouse on",
    "Friday morning, before ten o'clock.",
    "Kind regards,",
    "Margaret Ellison",
]
LAYOUTS: dict[str, list[tuple[str, str | None]] | list[str]] = {
    "receipt-es": RECEIPT_ES,
    "receipt-en": RECEIPT_EN,
    "receipt-es-fruit": RECEIPT_ES_2,
    "letter-es": LETTER_ES,
    "letter-en": LETTER_EN,
}


@dataclass(frozen=True)
class Shot:
    """How a document is photographed."""

    rotate: int = 0  # 0, 90, 180, 270: the camera held sideways or upside down
    skew: float = 0.0  # degrees, the paper turned on the table
    perspective: float = 0.0  # 0..0.12: how far the corners move, as a share of the size
    light: float = 0.0  # 0..0.6: the darkest corner's loss of light
    noise: float = 0.0  # standard deviation of the sensor noise, in grey levels
    blur: float = 0.0  # Gaussian blur radius, in pixels
    quality: int = 90  # JPEG quality


@dataclass(frozen=True)
class Case:
    name: str
    layout: str
    shot: Shot
    seed: int = 0
    truth: str = field(default="", compare=False)

    def image(self) -> bytes:
        return photograph(self.layout, self.shot, self.seed)


def truth(layout: str) -> str:
    """The document's text as a person reads it, a line each."""
    lines = LAYOUTS[layout]
    out = []
    for line in lines:
        if isinstance(line, tuple):
            out.append(line[0] if line[1] is None else f"{line[0]} {line[1]}")
        else:
            out.append(line)
    return "\n".join(out)


def page(layout: str) -> Image.Image:
    """The document as printed: a narrow thermal receipt in a monospace font with the
    amounts right-aligned, or a letter in a proportional font."""
    lines = LAYOUTS[layout]
    if layout.startswith("receipt"):
        font, bold = ImageFont.truetype(MONO, 30), ImageFont.truetype(MONO_BOLD, 32)
        width, step = 760, 52
        image = Image.new("L", (width, 90 + step * len(lines)), 250)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            assert isinstance(line, tuple)
            label, amount = line
            y = 45 + step * i
            face = bold if label.isupper() else font
            if amount is None:  # headers and footers are centred
                w = draw.textlength(label, font=face)
                draw.text(((width - w) / 2, y), label, font=face, fill=20)
            else:
                draw.text((40, y), label, font=face, fill=20)
                w = draw.textlength(amount, font=face)
                draw.text((width - 40 - w, y), amount, font=face, fill=20)
        return image
    font = ImageFont.truetype(SERIF if layout.endswith("es") else SANS, 34)
    width, step = 1100, 60
    image = Image.new("L", (width, int(width * 1.1)), 248)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        assert isinstance(line, str)
        draw.text(
            (80, 90 + step * i + (step if i >= len(lines) - 2 else 0)), line, font=font, fill=25
        )
    return image


def photograph(layout: str, shot: Shot, seed: int = 0) -> bytes:
    """The document lying on a table, photographed as `shot` says, as JPEG bytes."""
    rng = random.Random(f"{layout}/{seed}")
    paper = page(layout)
    pw, ph = paper.size
    margin = int(max(pw, ph) * 0.25)
    cw, ch = pw + 2 * margin, ph + 2 * margin
    table = np.full((ch, cw), 95.0)
    grain = np.random.default_rng(seed).normal(0, 6, (ch // 8 + 1, cw // 8 + 1))
    table += np.kron(grain, np.ones((8, 8)))[:ch, :cw]  # wood-ish grain
    # where the paper's corners land: turned by `skew`, each moved by `perspective`
    cx, cy = cw / 2, ch / 2
    angle = math.radians(shot.skew)
    corners = []
    for x, y in ((-pw / 2, -ph / 2), (pw / 2, -ph / 2), (pw / 2, ph / 2), (-pw / 2, ph / 2)):
        jitter = shot.perspective * max(pw, ph)
        x += rng.uniform(-jitter, jitter)
        y += rng.uniform(-jitter, jitter)
        corners.append(
            (
                cx + x * math.cos(angle) - y * math.sin(angle),
                cy + x * math.sin(angle) + y * math.cos(angle),
            )
        )
    coeffs = _perspective_coefficients(corners, [(0, 0), (pw, 0), (pw, ph), (0, ph)])
    warped = paper.transform(
        (cw, ch), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC
    )
    mask = Image.new("L", paper.size, 255).transform(
        (cw, ch), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    m = np.asarray(mask, dtype=np.float64) / 255
    pixels = np.asarray(warped, dtype=np.float64) * m + table * (1 - m)
    if shot.light:  # a lamp to one side: light falls off across the picture
        yy, xx = np.mgrid[0:ch, 0:cw]
        lx, ly = rng.choice([(0, 0), (cw, 0), (0, ch), (cw, ch)])
        distance = np.hypot(xx - lx, yy - ly) / math.hypot(cw, ch)
        pixels *= 1 - shot.light * distance
    if shot.noise:
        pixels += np.random.default_rng(seed + 1).normal(0, shot.noise, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if shot.blur:
        image = image.filter(ImageFilter.GaussianBlur(shot.blur))
    if shot.rotate:
        image = image.rotate(-shot.rotate, expand=True)  # clockwise, as a camera turns
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=shot.quality)
    return out.getvalue()


def _perspective_coefficients(
    source: list[tuple[float, float]], target: list[tuple[float, float]]
) -> list[float]:
    """PIL's eight coefficients mapping each output point in `source` to `target`."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    solved = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(values, dtype=np.float64))
    return [float(c) for c in solved]


def cases() -> list[Case]:
    """The set: every layout clean and turned three ways, then skewed, in perspective,
    badly lit, noisy and blurred, alone and together."""
    shots = {
        "clean": Shot(),
        "rot90": Shot(rotate=90),
        "rot180": Shot(rotate=180),
        "rot270": Shot(rotate=270),
        "skew+10": Shot(skew=10),
        "skew-20": Shot(skew=-20),
        "perspective": Shot(perspective=0.08, light=0.5, noise=8, blur=0.8, quality=70),
        "table": Shot(skew=7, perspective=0.05, light=0.4, noise=6, blur=0.6, quality=60),
        "sideways": Shot(rotate=90, skew=-12, perspective=0.04, light=0.3, noise=5, quality=75),
        "upside": Shot(rotate=180, skew=15, light=0.35, noise=6, blur=0.5, quality=65),
    }
    return [
        Case(f"{layout}/{name}", layout, shot, seed, truth(layout))
        for seed, layout in enumerate(LAYOUTS)
        for name, shot in shots.items()
    ]


def similarity(expected: str, got: str) -> float:
    """1 - the edit distance between the texts (whitespace runs as one space) over the
    longer one's length: 1.0 is the same text, 0.0 nothing in common."""
    from rapidfuzz.distance import Levenshtein

    a, b = " ".join(expected.split()), " ".join(got.split())
    return float(Levenshtein.normalized_similarity(a, b))
