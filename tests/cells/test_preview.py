"""PREVIEW on real files: JPEG photos turned by their EXIF orientation, PNGs with and
without transparency, PDFs drawn by Pillow, audio from sox and espeak-ng decoded by the
real ffmpeg. Every preview is decoded again with Pillow and its size checked."""

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tzzr.cells.base import CellContext, CellFailed, CellResult, Payload
from tzzr.cells.preview import PreviewCell, waveform
from tzzr.cells.registry import Registry
from tzzr.errors import TooLarge

RED, BLUE = (220, 20, 20), (20, 20, 220)
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"


@pytest.fixture(scope="module")
def cell() -> PreviewCell:
    return PreviewCell(max_seconds=600)


def run(cell: PreviewCell, kind: str, data: bytes) -> CellResult:
    return cell.run(CellContext("preview-test"), Payload(kind, data))


def decoded(result: CellResult, name: str) -> Image.Image:
    artifact = result.artifacts[name]
    assert artifact.media_type == "image/webp"
    image = Image.open(io.BytesIO(artifact.data))
    assert image.format == "WEBP"
    image.load()
    return image


def photo(width: int, height: int, orientation: int | None = None, fmt: str = "JPEG") -> bytes:
    """Blue, with a red block in the stored image's top-left corner."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 3, height // 3))
    out = io.BytesIO()
    if orientation is None:
        image.save(out, fmt)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, fmt, exif=exif)
    return out.getvalue()


def near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return all(abs(int(a) - b) < 40 for a, b in zip(pixel[:3], colour, strict=True))


def test_the_cell_is_installed_like_any_other() -> None:
    found = Registry.discover().get("preview")
    assert found.module == "PREVIEW" and found.accepts == {"image", "pdf", "audio"}


def test_a_photo_is_turned_as_its_exif_says_and_scaled_to_both_sizes(cell: PreviewCell) -> None:
    # Stored 1600x1200; orientation 6 means "turn 90° clockwise to show it".
    result = run(cell, "image", photo(1600, 1200, orientation=6))
    assert result.result["width"] == 1200 and result.result["height"] == 1600
    assert result.result["kind"] == "image" and result.result["format"] == "jpeg"
    large, thumb = decoded(result, "large.webp"), decoded(result, "thumb.webp")
    assert large.size == (960, 1280) and thumb.size == (192, 256)
    assert result.result["images"] == {
        "large.webp": {"width": 960, "height": 1280},
        "thumb.webp": {"width": 192, "height": 256},
    }
    # the stored top-left corner is now the top-right one
    assert near(thumb.getpixel((thumb.width - 10, 10)), RED)
    assert near(thumb.getpixel((10, 10)), BLUE)


@pytest.mark.parametrize(
    ("size", "large", "thumb"),
    [
        ((3000, 1000), (1280, 427), (256, 85)),  # wide
        ((700, 2100), (427, 1280), (85, 256)),  # tall
        ((700, 900), (700, 900), (199, 256)),  # smaller than large: kept as it is
        ((100, 50), (100, 50), (100, 50)),  # smaller than both: never enlarged
        ((1280, 1280), (1280, 1280), (256, 256)),
    ],
)
def test_sizes_keep_the_aspect_and_never_enlarge(
    cell: PreviewCell,
    size: tuple[int, int],
    large: tuple[int, int],
    thumb: tuple[int, int],
) -> None:
    result = run(cell, "image", photo(*size, fmt="PNG"))
    assert (result.result["width"], result.result["height"]) == size
    assert decoded(result, "large.webp").size == large
    assert decoded(result, "thumb.webp").size == thumb
    ratio = size[0] / size[1]
    assert abs(thumb[0] / thumb[1] - ratio) < 0.02 * ratio


def test_transparency_is_kept(cell: PreviewCell) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (400, 200), (0, 0, 255, 0)).save(out, "PNG")
    thumb = decoded(run(cell, "image", out.getvalue()), "thumb.webp")
    assert thumb.mode == "RGBA" and int(np.asarray(thumb)[5, 5, 3]) == 0


def test_a_sixteen_bit_grey_png_is_shown(cell: PreviewCell) -> None:
    image = Image.new("I;16", (300, 300), 0)
    image.paste(60000, (0, 0, 150, 300))
    out = io.BytesIO()
    image.save(out, "PNG")
    thumb = decoded(run(cell, "image", out.getvalue()), "thumb.webp").convert("L")
    left, right = thumb.getpixel((20, 100)), thumb.getpixel((230, 100))
    assert isinstance(left, int) and isinstance(right, int)
    assert left > 200 and right < 30  # not all white, as a plain conversion clips it


def pdf_of(pages: int, size: tuple[int, int] = (1240, 1754)) -> bytes:
    drawn = [photo(*size, fmt="PNG") for _ in range(pages)]
    images = [Image.open(io.BytesIO(page)) for page in drawn]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return out.getvalue()


def test_a_pdfs_first_page_is_previewed(cell: PreviewCell) -> None:
    result = run(cell, "pdf", pdf_of(3))
    # 1240x1754 px at 150 dpi is A4: 595x842 points
    assert result.result["kind"] == "pdf" and result.result["pages"] == 3
    assert (result.result["width"], result.result["height"]) == (595, 842)
    large, thumb = decoded(result, "large.webp"), decoded(result, "thumb.webp")
    assert max(large.size) == 1280 and max(thumb.size) == 256
    assert abs(large.width / large.height - 595 / 842) < 0.01
    assert near(thumb.getpixel((5, 5)), RED) and near(thumb.getpixel((thumb.width - 5, 5)), BLUE)


def test_a_pdf_sent_as_an_image_is_still_read_as_a_pdf(cell: PreviewCell) -> None:
    assert run(cell, "image", pdf_of(1)).result["kind"] == "pdf"


@pytest.mark.parametrize(
    ("kind", "data", "says"),
    [
        ("image", b"not an image at all", "not an image in a format .*: jpeg, png, gif"),
        ("image", photo(400, 300)[:600], "not an image that can be read"),  # cut short
        ("image", EPS, "not an image in a format"),
        ("pdf", b"%PDF-1.7 broken", "not a PDF that can be read"),
        ("audio", b"RIFF....WAVEnot really", "not audio that ffmpeg can decode"),
        ("bytes", b"anything", "nothing to preview"),
    ],
)
def test_what_cannot_be_previewed_fails_clearly(
    cell: PreviewCell, kind: str, data: bytes, says: str
) -> None:
    with pytest.raises(CellFailed, match=says) as failed:
        run(cell, kind, data)
    assert failed.value.field in ("payload.content", "payload.type")


def test_pillow_alone_would_open_an_eps_for_ghostscript() -> None:
    """Why the formats are listed: Image.open identifies this one and load() runs gs."""
    with Image.open(io.BytesIO(EPS)) as opened:
        assert opened.format == "EPS"


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(TooLarge, match="1000x1000 pixels; the limit is 999999"):
        run(PreviewCell(max_pixels=999_999, max_seconds=1), "image", photo(1000, 1000))


def _tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def sox(path: Path, *effect: str, rate: int = 44100, channels: int = 2) -> bytes:
    subprocess.run(
        ["sox", "-n", "-r", str(rate), "-c", str(channels), str(path), *effect], check=True
    )
    return path.read_bytes()


@pytest.mark.parametrize(("fmt", "seconds"), [("ogg", 3.5), ("wav", 7.25), ("flac", 0.4)])
def test_audio_has_its_duration_and_a_waveform(
    cell: PreviewCell, tmp_path: Path, fmt: str, seconds: float
) -> None:
    _tools("sox", "ffmpeg")
    data = sox(tmp_path / f"tone.{fmt}", "synth", str(seconds), "sine", "440")
    result = run(cell, "audio", data)
    assert result.result["kind"] == "audio" and result.result["truncated"] is False
    assert abs(result.result["duration"] - seconds) < 0.1
    wave = decoded(result, "waveform.webp")
    assert wave.size == (1024, 160) and wave.mode == "RGBA"
    assert result.result["images"] == {"waveform.webp": {"width": 1024, "height": 160}}
    assert set(result.artifacts) == {"waveform.webp"}


def test_a_voice_notes_waveform_follows_its_loudness(cell: PreviewCell, tmp_path: Path) -> None:
    _tools("espeak-ng", "sox", "ffmpeg")
    raw = tmp_path / "raw.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(raw), "Pay the bakery on Friday. Then, silence."], check=True
    )
    padded = tmp_path / "note.wav"
    subprocess.run(["sox", str(raw), str(padded), "pad", "0", "2"], check=True)  # 2 s quiet
    result = run(cell, "audio", padded.read_bytes())
    spoken = subprocess.run(
        ["soxi", "-D", str(padded)], capture_output=True, text=True, check=True
    ).stdout
    assert abs(result.result["duration"] - float(spoken)) < 0.1
    wave = decoded(result, "waveform.webp")
    heights = (np.asarray(wave)[:, :, 3] > 0).sum(axis=0).tolist()  # inked rows per column
    assert max(heights) >= 150  # the loudest column reaches the edges
    assert heights[-1] <= 2  # the padded silence is a line
    assert len(set(heights)) > 20  # speech rises and falls


def test_silence_draws_a_line() -> None:
    image = Image.open(io.BytesIO(waveform(np.zeros(16000, dtype=np.float32), (64, 9))))
    inked = np.asarray(image)[:, :, 3] > 0
    assert inked[4].all() and inked.sum() == 64  # the centre row, and only it


def test_audio_past_the_cap_is_cut_and_says_so(tmp_path: Path) -> None:
    _tools("sox", "ffmpeg")
    data = sox(tmp_path / "long.wav", "trim", "0", "5", rate=16000, channels=1)
    result = run(PreviewCell(max_seconds=2), "audio", data)
    assert result.result["truncated"] is True and result.result["max_seconds"] == 2
    assert abs(result.result["duration"] - 2) < 0.01
