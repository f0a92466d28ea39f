"""Real Tesseract on images rendered here from known English and Spanish text."""

import io
import os
import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.helpers import edit_distance
from tzzr.cells import CellContext, CellFailed, Payload
from tzzr.cells.ocr import OcrCell
from tzzr.errors import TooLarge

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ENGLISH = [
    "Invoice 2041 from Harbour Street Bakery",
    "Two loaves of rye bread 7.80",
    "Total due 12.35 GBP, thank you",
]
SPANISH = [
    "Factura de la panadería Muñoz",
    "Café con leche y tostada 3,40",
    "Total a pagar: 23,45 EUR. ¡Gracias por su visita!",
]


@pytest.fixture(autouse=True)
def _tesseract() -> None:
    if shutil.which("tesseract") is None or not os.path.exists(FONT):
        message = "tesseract-ocr and fonts-dejavu-core are needed (make test installs them)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def render(lines: list[str], fmt: str = "PNG") -> bytes:
    font = ImageFont.truetype(FONT, 36)
    image = Image.new("RGB", (1400, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 70 * i), line, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def cer(expected: str, got: str) -> float:
    """Character error rate: edit distance over the expected length."""
    return edit_distance(expected, got) / max(1, len(expected))


@pytest.mark.parametrize(("lines", "lang"), [(ENGLISH, "en"), (SPANISH, "es"), (SPANISH, None)])
def test_ocr_reads_rendered_text(lines: list[str], lang: str | None) -> None:
    result = OcrCell().run(CellContext("r", lang), Payload("image", render(lines, "JPEG")))
    got = " ".join(result.result["text"].split())
    rate = cer(" ".join(lines), got)
    assert rate <= 0.02, (rate, got)
    assert result.engine == "tesseract"
    word = result.result["words"][0]
    assert word["text"] == lines[0].split()[0]
    x, y, w, h = word["box"]
    assert 30 <= x <= 50 and 30 <= y <= 60 and w > 0 and h > 0
    assert 0 <= word["conf"] <= 100


def test_corrupt_images_fail_with_a_clear_error() -> None:
    with pytest.raises(CellFailed, match="not an image"):
        OcrCell().run(CellContext("r"), Payload("image", b"\x89PNG not really"))


def test_images_over_the_pixel_limit_are_refused_before_decoding() -> None:
    with pytest.raises(TooLarge, match="pixels"):
        OcrCell(max_pixels=1000).run(CellContext("r"), Payload("image", render(["x"])))


def test_missing_languages_are_named() -> None:
    with pytest.raises(CellFailed, match="'fra' is not installed") as caught:
        OcrCell().run(CellContext("r", "fra"), Payload("image", render(["x"])))
    assert caught.value.field == "context.lang"


def pdf_of(pages: list[list[str]]) -> bytes:
    images = [Image.open(io.BytesIO(render(lines))).convert("RGB") for lines in pages]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


def test_a_pdf_gives_one_result_per_page() -> None:
    result = OcrCell().run(CellContext("r", "es"), Payload("pdf", pdf_of([ENGLISH, SPANISH])))
    pages = result.result["pages"]
    assert [p["page"] for p in pages] == [1, 2]
    for page, lines in zip(pages, (ENGLISH, SPANISH), strict=True):
        assert cer(" ".join(lines), " ".join(page["text"].split())) <= 0.02, page["text"]
        assert page["words"][0]["text"] == lines[0].split()[0]
    assert result.result["text"].count("\f") == 1
    assert result.result["truncated"] is False and result.result["pages_total"] == 2


# A page of pdf_of: 1400 x 290 px saved at 150 dpi, rendered at 300 dpi: 2800 x 580.
PAGE_PIXELS = 2800 * 580


@pytest.mark.parametrize(
    "budget",
    [
        int(PAGE_PIXELS * 1.5),  # room for one page at 300 dpi
        PAGE_PIXELS // 2,  # less than one page: the first is rendered smaller, to fit
    ],
)
def test_a_pdf_past_the_pixel_budget_is_read_as_far_as_it_goes(budget: int) -> None:
    document = pdf_of([ENGLISH, SPANISH, ENGLISH])
    cell = OcrCell(max_document_pixels=budget)
    result = cell.run(CellContext("r", "en"), Payload("pdf", document)).result
    assert [p["page"] for p in result["pages"]] == [1]
    assert result["truncated"] is True and result["pages_total"] == 3
    assert result["max_pixels"] == budget
    assert cer(" ".join(ENGLISH), " ".join(result["pages"][0]["text"].split())) <= 0.05


def test_a_corrupt_pdf_fails_with_a_clear_error() -> None:
    with pytest.raises(CellFailed, match="not a PDF"):
        OcrCell().run(CellContext("r"), Payload("pdf", b"%PDF-1.4 nothing else"))


def test_only_the_listed_image_formats_are_opened() -> None:
    """An EPS (which Pillow would hand to Ghostscript) is refused, naming what is read."""
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(CellFailed, match="not an image in a format OCR reads: jpeg, png") as caught:
        OcrCell().run(CellContext("r", "en"), Payload("image", eps))
    assert caught.value.field == "payload.content"
