"""PREVIEW: what a person sees of a file before opening it. For an image, WebP thumbnails
of two sizes (`thumb.webp`, 256 px on the longer side, and `large.webp`, 1280 px; never
larger than the image), turned as its EXIF orientation says; for a PDF the same of its
first page; for audio its duration and a waveform (`waveform.webp`). The result gives
the original's width and height (after EXIF; a PDF page's in points), the duration, and
each image made with its size.

Images are opened in the formats of tzzr.cells.images only (Pillow hands EPS to Ghostscript
and knows formats nobody photographs with), and their size is read from the header
before anything is decoded, so a decompression bomb is refused before it costs memory;
a large JPEG is decoded at a reduced scale (Pillow's draft mode) no smaller than the
large preview. Audio is decoded as ASR_ENGINE decodes it (tzzr.cells.asr.decode:
whitelisted demuxers, a local file, a time cap, at most `asr_max_seconds`)."""

import io
import time
from dataclasses import dataclass
from typing import Any

from tzzr.cells.asr import DECODE_TIMEOUT_SECONDS, SAMPLE_RATE, decode
from tzzr.cells.base import Artifact, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.images import formats
from tzzr.cells.meta import KnowledgeCell
from tzzr.errors import TooLarge

THUMB, LARGE, WAVEFORM = "thumb.webp", "large.webp", "waveform.webp"
NAMES = (THUMB, LARGE, WAVEFORM)
SIZES = {THUMB: 256, LARGE: 1280}  # pixels on the longer side
QUALITY = {THUMB: 75, LARGE: 82}
# libwebp's effort: 2 encodes the large one 3x faster than the default 4, 5% larger
METHOD = {THUMB: 4, LARGE: 2}
WAVEFORM_SIZE = (1024, 160)
WAVEFORM_COLOUR = (37, 99, 235)  # on a transparent ground: any page colour shows it
MAX_PIXELS = 100_000_000  # an image's, read from its header
WEBP = "image/webp"


@dataclass(frozen=True)
class _Images:
    artifacts: dict[str, Artifact]
    sizes: dict[str, dict[str, int]]


def _webp(image: Any, name: str) -> Artifact:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=QUALITY[name], method=METHOD[name])
    return Artifact(out.getvalue(), WEBP)


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled so that its longer side is `longest`, never larger than it is."""
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _eight_bit(image: Any) -> Any:
    """RGB, or RGBA when the image has transparency (WebP keeps it)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        import numpy as np

        pixels = np.asarray(image, dtype=np.float64)
        top = float(pixels.max()) or 1.0
        from PIL import Image

        image = Image.fromarray((pixels * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    clear = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    return image.convert("RGBA" if clear else "RGB")


def _scaled(image: Any) -> _Images:
    """The two WebP previews of an upright 8-bit image: the large one first, the
    thumbnail from it (a quarter of the work, and no visible difference)."""
    from PIL import Image

    artifacts: dict[str, Artifact] = {}
    sizes: dict[str, dict[str, int]] = {}
    source = image
    for name in (LARGE, THUMB):
        target = _fit(source.size, SIZES[name])
        if target != source.size:
            source = source.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        artifacts[name] = _webp(source, name)
        sizes[name] = {"width": source.width, "height": source.height}
    return _Images(artifacts, sizes)


def _image(data: bytes, max_pixels: int) -> tuple[dict[str, Any], _Images]:
    from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=formats()) as image:
            width, height = image.size  # header only: nothing decoded yet
            if width * height > max_pixels:
                raise TooLarge(f"the image has {width}x{height} pixels; the limit is {max_pixels}")
            kind = image.format or "unknown"
            orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
            if orientation in (5, 6, 7, 8):  # a quarter turn: the sides swap
                width, height = height, width
            # decode a JPEG at 1/2, 1/4 or 1/8 when that still covers the large preview
            image.draft("RGB", _fit(image.size, SIZES[LARGE]))
            upright = ImageOps.exif_transpose(image)
            images = _scaled(_eight_bit(upright))
    except Image.DecompressionBombError as exc:  # Pillow's own limit, past ours
        raise TooLarge(f"the image has too many pixels; the limit is {max_pixels}") from exc
    except UnidentifiedImageError as exc:
        raise CellFailed(
            "the payload is not an image in a format previews are made of: "
            + ", ".join(f.lower() for f in formats()),
            field="payload.content",
        ) from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated, corrupt
        raise CellFailed(
            f"the payload is not an image that can be read ({exc})", field="payload.content"
        ) from exc
    return {"width": width, "height": height, "format": kind.lower()}, images


def _pdf(data: bytes) -> tuple[dict[str, Any], _Images]:
    """The first page, rendered with its longer side at the large preview's size (a
    page is drawn, not stored in pixels: it has no size to stay under)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise CellFailed(
            f"the payload is not a PDF that can be read ({exc})", field="payload.content"
        ) from exc
    try:
        pages = len(document)
        if pages == 0:
            raise CellFailed("the PDF has no pages", field="payload.content")
        page = document[0]
        try:
            width, height = page.get_size()  # points: 1/72 inch
            if width <= 0 or height <= 0:
                raise CellFailed("the PDF's first page has no size", field="payload.content")
            try:
                bitmap = page.render(scale=SIZES[LARGE] / max(width, height))
            except pdfium.PdfiumError as exc:
                raise CellFailed(
                    f"the PDF's first page cannot be rendered ({exc})", field="payload.content"
                ) from exc
            try:
                images = _scaled(_eight_bit(bitmap.to_pil()))
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    found = {"width": round(width), "height": round(height), "unit": "pt", "pages": pages}
    return found, images


def waveform(samples: Any, size: tuple[int, int] = WAVEFORM_SIZE) -> bytes:
    """A lossless WebP of the audio's peaks: one column per slice of the samples, as
    tall as its loudest sample against the loudest of the whole recording."""
    import numpy as np
    from PIL import Image

    width, height = size
    peaks = np.zeros(width, dtype=np.float32)
    if len(samples):
        edges = np.linspace(0, len(samples), width + 1).astype(np.int64)
        for column in range(width):  # a slice at a time: no copy of an hour of samples
            start, end = edges[column], max(edges[column + 1], edges[column] + 1)
            if start < len(samples):
                peaks[column] = np.abs(samples[start:end]).max()
        loudest = float(peaks.max())
        if loudest > 0:
            peaks /= loudest
    half = (height - 1) / 2
    reach = np.maximum(peaks * half, 0.5)  # silence still draws the centre line
    rows = np.arange(height, dtype=np.float32)[:, None]
    ink = np.abs(rows - half) <= reach[None, :]
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[ink] = (*WAVEFORM_COLOUR, 255)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(out, format="WEBP", lossless=True)
    return out.getvalue()


class PreviewCell:
    module = "PREVIEW"
    accepts = frozenset({"image", "pdf", "audio"})

    def __init__(self, max_pixels: int = MAX_PIXELS, max_seconds: float | None = None) -> None:
        if max_seconds is None:
            from tzzr.config import Settings

            max_seconds = Settings().asr_max_seconds
        self.max_pixels = max_pixels
        self.max_seconds = max_seconds
        self.meta = KnowledgeCell(
            id="preview",
            type="preview",
            version="1.0.0",
            description=(
                "Previews: WebP thumbnails of images and of a PDF's first page, an audio "
                "file's duration and waveform."
            ),
            api_endpoint="/api/cells/preview/run",
            microservice_url="",
            input_format={"payload": {"type": "image | pdf | audio"}},
            output_format={
                "kind": "image | pdf | audio",
                "width": "int: the original's width (an image's after EXIF; a PDF page's in pt)",
                "height": "int: the original's height",
                "pages": "int: pages in the PDF",
                "duration": "number: seconds of audio (audio)",
                "truncated": "bool: the audio is longer than max_seconds (audio)",
                "images": "{name: {width, height}}: thumb.webp, large.webp or waveform.webp",
            },
            author="TZZR",
            test_cases=[
                {
                    "name": "receipt-thumbnails",
                    "input": {"type": "image", "sample": "receipt.png"},
                    "expect": {"contains": ["thumb.webp", "large.webp"]},
                },
                {
                    "name": "note-waveform",
                    "input": {"type": "audio", "sample": "note.wav"},
                    "expect": {"contains": ["waveform.webp", "duration"]},
                },
            ],
        )

    def health(self) -> dict[str, Any]:
        from PIL import features

        if not features.check("webp"):
            return {"status": "down", "detail": "Pillow was built without WebP"}
        return {"status": "ok", "detail": {"formats": [f.lower() for f in formats()]}}

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        started = time.perf_counter()
        if payload.type == "audio":
            samples, truncated = decode(
                payload.data, self.max_seconds, context.seconds_left(DECODE_TIMEOUT_SECONDS)
            )
            result: dict[str, Any] = {
                "kind": "audio",
                "duration": round(len(samples) / SAMPLE_RATE, 3),
                "truncated": truncated,
            }
            if truncated:
                result["max_seconds"] = self.max_seconds
            width, height = WAVEFORM_SIZE
            artifacts = {WAVEFORM: Artifact(waveform(samples), WEBP)}
            result["images"] = {WAVEFORM: {"width": width, "height": height}}
            engine = "ffmpeg"
        else:
            if payload.type == "pdf" or payload.data.startswith(b"%PDF-"):
                found, images = _pdf(payload.data)
                result, engine = {"kind": "pdf", **found}, "pdfium"
            elif payload.type == "image":
                found, images = _image(payload.data, self.max_pixels)
                result, engine = {"kind": "image", **found}, "pillow"
            else:
                raise CellFailed(
                    f"there is nothing to preview in a {payload.type!r} payload; previews "
                    "are made of images, PDFs and audio",
                    field="payload.type",
                )
            artifacts = images.artifacts
            result["images"] = images.sizes
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        return CellResult(result, engine=engine, artifacts=artifacts)
