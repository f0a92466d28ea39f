"""OCR_CORE: Tesseract (Debian's tesseract-ocr) on images, words with boxes and
confidences. The image's size is read from its header before anything is decoded, so a
decompression bomb is refused before it costs memory. A photo is prepared first (the page
found and flattened, levelled, turned upright, its light evened: tzzr.cells.prep), and
each word's box is given back in the photo's own coordinates. A PDF is rendered one page
at a time (render, read, drop) within a pixel budget for the whole document. Beside the
text, a searchable PDF (each page's image with the text under it) is kept as an
artifact."""

import csv
import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from tzzr.cells.base import Artifact, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.images import formats
from tzzr.cells.meta import KnowledgeCell
from tzzr.errors import TooLarge
from tzzr.validation import invalid_input

if TYPE_CHECKING:  # numpy (and OpenCV) load when a page is read, not when cells are found
    from tzzr.cells.prep import Prepared

LANGUAGES = {"es": "spa", "en": "eng", "spa": "spa", "eng": "eng"}
DEFAULT_LANG = "spa+eng"  # spa+eng reads accents well and English too
MAX_PIXELS = 40_000_000  # an image, or one page of a PDF
TIMEOUT_SECONDS = 120
MAX_PDF_PAGES = 200  # tiny pages pass any pixel budget, and each costs a Tesseract run
PDF_DPI = 300
ARCHIVE = "searchable.pdf"  # the artifact: the pages with their text under them


class OcrParams(BaseModel):
    """What a run may choose: `prepare` (find, flatten, level and turn the page first),
    `psm` (Tesseract's page segmentation: 4, a single column of lines of any size, keeps
    a receipt's amounts on their lines; 3 finds columns; 6 one block; 11 sparse text),
    and `pdf` (keep the searchable PDF)."""

    model_config = ConfigDict(extra="forbid")

    prepare: bool = True
    psm: Literal[3, 4, 6, 11] = 4
    pdf: bool = True


def ocr_params(params: Any) -> OcrParams:
    try:
        return OcrParams.model_validate(dict(params))
    except ValidationError as exc:
        raise invalid_input(exc, under="params") from exc


@lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    binary = shutil.which("tesseract")
    if binary is None:
        return frozenset()
    listing = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, check=False
    ).stdout
    return frozenset(line.strip() for line in listing.splitlines()[1:] if line.strip())


def _languages(lang: str | None) -> str:
    wanted = (
        DEFAULT_LANG
        if not lang
        else "+".join(
            LANGUAGES.get(part.strip().lower(), part.strip().lower()) for part in lang.split("+")
        )
    )
    missing = [p for p in wanted.split("+") if p not in installed_languages()]
    if missing:
        known = ", ".join(sorted(installed_languages())) or "none (install tesseract-ocr)"
        raise CellFailed(
            f"OCR language {'+'.join(missing)!r} is not installed; installed: {known}",
            field="context.lang",
        )
    return wanted


def _decode(data: bytes, max_pixels: int) -> Any:
    """The image as greyscale pixels, turned as its EXIF orientation says (as a browser
    shows it: the coordinates words are given in)."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=formats()) as image:
            width, height = image.size  # header only: nothing decoded yet
            if width * height > max_pixels:
                raise TooLarge(f"the image has {width}x{height} pixels; the limit is {max_pixels}")
            upright = ImageOps.exif_transpose(image)
            return np.asarray(upright.convert("L"))
    except Image.DecompressionBombError as exc:  # Pillow's own limit, past ours
        raise TooLarge(f"the image has too many pixels; the limit is {max_pixels}") from exc
    except UnidentifiedImageError as exc:
        raise CellFailed(
            "the payload is not an image in a format OCR reads: "
            + ", ".join(f.lower() for f in formats())
            + " (or a PDF)",
            field="payload.content",
        ) from exc
    except (OSError, ValueError) as exc:
        raise CellFailed(
            f"the payload is not an image that can be read ({exc})", field="payload.content"
        ) from exc


def _words(tsv: str, prepared: "Prepared | None" = None) -> tuple[str, list[dict[str, Any]]]:
    """The text, a line per line Tesseract found (a blank line between paragraphs), and
    its words; with `prepared`, each word's `box` is where it is on the original image
    and `quad` the four corners it covers there."""
    words: list[dict[str, Any]] = []
    lines: dict[tuple[int, int, int], list[str]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or float(row["conf"]) < 0:
            continue
        box = [int(row["left"]), int(row["top"]), int(row["width"]), int(row["height"])]
        word: dict[str, Any] = {"text": text, "conf": round(float(row["conf"]), 2), "box": box}
        if prepared is not None:
            word["box"], word["quad"] = prepared.to_original(box)
        words.append(word)
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines.setdefault(key, []).append(text)
    text_lines, previous = [], None
    for key in sorted(lines):
        if previous is not None and key[:2] != previous[:2]:
            text_lines.append("")  # a blank line between paragraphs
        text_lines.append(" ".join(lines[key]))
        previous = key
    return "\n".join(text_lines), words


@dataclass
class _Reading:
    """How much of a PDF was read: its pages, the pixels those rendered took, and
    whether some were left unread."""

    pages: int = 0
    pixels: int = 0
    truncated: bool = False


def _pdf_pages(
    data: bytes, max_pixels: int, budget: int, reading: _Reading
) -> Generator[Any, None, None]:
    """Each page of a PDF in turn, rendered at 300 dpi (less for a page that would pass
    `max_pixels`) as grayscale PNG, until the next page would pass the document's pixel
    `budget` (or MAX_PDF_PAGES): `reading` says where it stopped. One page is in memory
    at a time."""
    import numpy as np
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CellFailed(
            f"the payload is not a PDF that can be read ({exc})", field="payload.content"
        ) from exc
    try:
        reading.pages = len(document)
        page_cap = min(max_pixels, budget)
        for index in range(reading.pages):
            page = document[index]
            try:
                width, height = page.get_size()  # points: 1/72 inch
                scale = PDF_DPI / 72
                cost = width * height * scale * scale
                if cost > page_cap:
                    scale, cost = (page_cap / (width * height)) ** 0.5, page_cap
                if index >= MAX_PDF_PAGES or reading.pixels + cost > budget:
                    reading.truncated = True
                    return
                try:
                    bitmap = page.render(scale=scale, grayscale=True)
                except pdfium.PdfiumError as exc:
                    raise CellFailed(
                        f"page {index + 1} of the PDF cannot be rendered ({exc})",
                        field="payload.content",
                    ) from exc
                image = bitmap.to_pil()
                reading.pixels += round(cost)
                pixels = np.asarray(image.convert("L"))
                del image
                bitmap.close()
            finally:
                page.close()
            yield pixels
    finally:
        document.close()


class OcrCell:
    module = "OCR_CORE"
    accepts = frozenset({"image", "pdf"})

    def __init__(
        self, max_pixels: int = MAX_PIXELS, max_document_pixels: int | None = None
    ) -> None:
        if max_document_pixels is None:
            from tzzr.config import Settings

            max_document_pixels = Settings().ocr_max_pixels
        self.max_pixels = max_pixels
        self.max_document_pixels = max_document_pixels
        self.meta = KnowledgeCell(
            id="ocr-core",
            type="ocr",
            version="1.1.0",
            description=(
                "Text, words, boxes and confidences from photos, scans and PDFs: the page "
                "found, flattened, levelled and turned upright first (Tesseract, OpenCV)."
            ),
            api_endpoint="/api/cells/ocr-core/run",
            microservice_url="",
            input_format={
                "payload": {"type": "image | pdf"},
                "context": {"lang": "es | en | spa+eng"},
                "params": {"prepare": "bool (true)", "psm": "3 | 4 | 6 | 11 (4)", "pdf": "bool"},
            },
            output_format={
                "text": "string (pages separated by form feeds)",
                "words": "[{text, conf, box: [x, y, w, h], quad}] on the original (images)",
                "preparation": "{document, perspective, deskew, rotated, scale, illumination, ms}",
                "pages": "[{page, text, words, preparation}] (PDFs)",
                "artifacts": "searchable.pdf: the pages with their text layer",
                "truncated": "bool: pages past the pixel budget were not read (PDFs)",
                "pages_total": "int: pages in the PDF",
            },
            author="TZZR",
            test_cases=[
                {
                    "name": "receipt-es",
                    "input": {"type": "image", "sample": "receipt.png"},
                    "lang": "es",
                    "expect": {"contains": ["Panadería Muñoz", "Total a pagar", "8,70"]},
                }
            ],
            visualization_sample={
                "samples": [
                    {
                        "id": "receipt",
                        "input": {"type": "image", "sample": "receipt.png"},
                        "lang": "es",
                        "mediaType": "image/png",
                        "description": "The sample receipt with every word's box",
                    }
                ]
            },
        )

    def visualize(self, payload: Payload, result: CellResult) -> tuple[bytes, str]:
        """The image with a box around each word, coloured by confidence."""
        from PIL import Image, ImageDraw

        with Image.open(io.BytesIO(payload.data)) as source:
            image = source.convert("RGB")
        draw = ImageDraw.Draw(image)
        for word in result.result.get("words", []):
            x, y, w, h = word["box"]
            colour = (0, 160, 0) if word["conf"] >= 80 else (220, 120, 0)
            draw.rectangle((x - 2, y - 2, x + w + 2, y + h + 2), outline=colour, width=2)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue(), "image/png"

    def health(self) -> dict[str, Any]:
        if shutil.which("tesseract") is None:
            return {"status": "down", "detail": "tesseract is not installed"}
        return {"status": "ok", "detail": {"languages": sorted(installed_languages())}}

    def check_params(self, params: dict[str, Any]) -> None:
        ocr_params(params)

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        binary = shutil.which("tesseract")
        if binary is None:
            raise CellFailed("tesseract is not installed: apt-get install tesseract-ocr")
        langs = _languages(context.lang)
        options = ocr_params(context.params)
        started = time.perf_counter()
        archive: list[bytes] = []  # each page's searchable PDF
        if payload.type == "pdf" or payload.data.startswith(b"%PDF-"):
            pages: list[dict[str, Any]] = []
            texts: list[str] = []
            reading = _Reading()
            rendered = _pdf_pages(payload.data, self.max_pixels, self.max_document_pixels, reading)
            with closing(rendered):  # the document closes even if a page fails
                for number, gray in enumerate(rendered, 1):
                    page = _read(binary, gray, langs, context, options)
                    pages.append({"page": number, "text": page.text, "words": page.words})
                    if page.preparation:
                        pages[-1]["preparation"] = page.preparation
                    texts.append(page.text)
                    if page.pdf is not None:
                        archive.append(page.pdf)
            result: dict[str, Any] = {
                "text": "\f".join(texts),  # a form feed between pages
                "pages": pages,
                "pages_total": reading.pages,
                "truncated": reading.truncated,
            }
            if reading.truncated:
                result["max_pixels"] = self.max_document_pixels
                result["max_pages"] = MAX_PDF_PAGES
        else:
            page = _read(binary, _decode(payload.data, self.max_pixels), langs, context, options)
            result = {"text": page.text, "words": page.words}
            if page.preparation:
                result["preparation"] = page.preparation
            if page.pdf is not None:
                archive.append(page.pdf)
        artifacts = {ARCHIVE: Artifact(_join_pdfs(archive), "application/pdf")} if archive else {}
        result.update(lang=langs, ms=round((time.perf_counter() - started) * 1000, 1))
        return CellResult(result, engine="tesseract", model=langs, artifacts=artifacts)


@dataclass
class _Page:
    text: str
    words: list[dict[str, Any]]
    preparation: dict[str, Any]
    pdf: bytes | None


def _read(binary: str, gray: Any, langs: str, context: CellContext, options: OcrParams) -> _Page:
    """One image or PDF page: prepared (unless the run says not to), read, and its
    words put back on the original's coordinates."""
    import cv2

    from tzzr.cells.prep import prepare

    prepared = None
    if options.prepare:
        prepared = prepare(gray, binary, context.seconds_left(TIMEOUT_SECONDS))
        gray = prepared.image
    ok, png = cv2.imencode(".png", gray)
    if not ok:
        raise CellFailed("the prepared image could not be encoded for Tesseract")
    tsv, pdf = _tesseract(binary, png.tobytes(), langs, context, options)
    text, words = _words(tsv, prepared)
    return _Page(text, words, prepared.steps if prepared else {}, pdf)


def _tesseract(
    binary: str, image: bytes, langs: str, context: CellContext, options: OcrParams
) -> tuple[str, bytes | None]:
    """Tesseract's TSV for a PNG, and with `options.pdf` the page as a searchable PDF
    (the same run writes both)."""
    timeout = context.seconds_left(TIMEOUT_SECONDS)  # a runsync caller may stop waiting
    if timeout <= 0:
        raise CellFailed("the caller stopped waiting for this OCR; nothing more is read")
    with tempfile.TemporaryDirectory(prefix="tzzr-ocr-") as work:
        out = Path(work) / "page"
        renderers = ["tsv", "pdf"] if options.pdf else ["tsv"]
        try:
            done = subprocess.run(
                [binary, "stdin", str(out), "-l", langs, "--psm", str(options.psm), *renderers],
                input=image,
                capture_output=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # 4-5x faster on few cores
            )
        except subprocess.TimeoutExpired as exc:
            raise CellFailed(f"OCR took longer than {timeout:.0f} s") from exc
        if done.returncode != 0:
            raise CellFailed(f"tesseract failed: {done.stderr.decode(errors='replace')[-300:]}")
        tsv = out.with_suffix(".tsv").read_text("utf-8", errors="replace")
        pdf = out.with_suffix(".pdf").read_bytes() if options.pdf else None
    return tsv, pdf


def _join_pdfs(pages: list[bytes]) -> bytes:
    """One PDF of the pages' PDFs, in order."""
    if len(pages) == 1:
        return pages[0]
    import pypdfium2 as pdfium

    joined = pdfium.PdfDocument.new()
    try:
        for data in pages:
            page = pdfium.PdfDocument(data)
            try:
                joined.import_pages(page)
            finally:
                page.close()
        out = io.BytesIO()
        joined.save(out)
        return out.getvalue()
    finally:
        joined.close()
