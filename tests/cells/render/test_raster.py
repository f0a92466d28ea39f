"""Frames and encoders (tzzr.cells.render.raster): colours, depth-cued lines, the
supersampling, scanlines, and animations that decode to their frames."""

import io

import pytest
from PIL import Image

from tzzr.cells.render.raster import (
    draw_frame,
    encode_animation,
    encode_png,
    hex_colour,
    mix,
)

BLACK = (0, 0, 0)
GREEN = (0, 255, 128)


def test_colours_parse_and_mix() -> None:
    assert hex_colour("#00ff80") == GREEN and hex_colour("102030") == (16, 32, 48)
    assert mix(BLACK, GREEN, 0.0) == BLACK and mix(BLACK, GREEN, 1.0) == GREEN
    assert mix((100, 100, 100), (200, 0, 100), 0.5) == (150, 50, 100)


def frame(**overrides: object) -> Image.Image:
    options: dict[str, object] = {
        "colour": GREEN,
        "background": BLACK,
        "line_width": 2,
        "antialias": 1,
        "depth_cue": True,
        "glow": False,
        "scanlines": False,
    }
    options.update(overrides)
    # one near edge across the top, one far edge across the bottom
    points = [(4.0, 8.0), (60.0, 8.0), (4.0, 56.0), (60.0, 56.0)]
    return draw_frame(64, points, [(0, 1), (2, 3)], [1.0, 1.0, 0.0, 0.0], **options)  # type: ignore[arg-type]


def test_depth_cueing_dims_the_far_edge() -> None:
    image = frame()
    assert image.size == (64, 64)
    assert image.getpixel((32, 8)) == GREEN  # near: full colour
    assert image.getpixel((32, 56)) == mix(BLACK, GREEN, 0.3)  # far: 30%
    assert image.getpixel((32, 32)) == BLACK
    assert frame(depth_cue=False).getpixel((32, 56)) == GREEN


def test_supersampling_keeps_the_size_and_softens_the_edges() -> None:
    sharp, smooth = frame(line_width=1.5), frame(line_width=1.5, antialias=4)
    assert smooth.size == (64, 64)
    greys = {smooth.getpixel((32, y)) for y in range(4, 12)}
    assert len(greys) > len({sharp.getpixel((32, y)) for y in range(4, 12)})


def test_scanlines_darken_every_other_row() -> None:
    image = frame(depth_cue=False, line_width=60, scanlines=True)
    even, odd = image.getpixel((32, 8)), image.getpixel((32, 9))
    assert isinstance(even, tuple) and isinstance(odd, tuple)
    assert even[1] > odd[1] > 0


@pytest.mark.parametrize(("kind", "format"), [("webp", "WEBP"), ("gif", "GIF"), ("apng", "PNG")])
def test_animations_hold_every_frame_and_loop(kind: str, format: str) -> None:
    frames = [Image.new("RGB", (16, 16), (n * 60, 0, 0)) for n in range(4)]
    with Image.open(io.BytesIO(encode_animation(frames, 10, kind))) as decoded:
        assert decoded.format == format
        assert getattr(decoded, "n_frames", 1) == 4
        assert decoded.info.get("loop") == 0


def test_a_png_frame_decodes_to_the_same_pixels() -> None:
    image = frame()
    with Image.open(io.BytesIO(encode_png(image))) as decoded:
        assert decoded.format == "PNG"
        assert decoded.convert("RGB").tobytes() == image.tobytes()
