"""Frames from geometry with Pillow: supersampled antialiasing, depth cueing, a glow
from a blurred quarter-size copy, scanlines, translucent faces; and the encoders."""

import io
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

RGB = tuple[int, int, int]


def hex_colour(value: str) -> RGB:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def mix(background: RGB, colour: RGB, amount: float) -> RGB:
    return (
        round(background[0] + (colour[0] - background[0]) * amount),
        round(background[1] + (colour[1] - background[1]) * amount),
        round(background[2] + (colour[2] - background[2]) * amount),
    )


@lru_cache(maxsize=8)
def _scanline_mask(size: int) -> Image.Image:
    """Every other row at 72%: the hologram's scanlines."""
    mask = Image.new("L", (1, size), 255)
    for y in range(1, size, 2):
        mask.putpixel((0, y), 184)
    return mask.resize((size, size), Image.Resampling.NEAREST).convert("RGB")


def draw_frame(
    size: int,
    points: Sequence[tuple[float, float]],
    edges: Sequence[tuple[int, int]],
    weights: Sequence[float],
    *,
    colour: RGB,
    background: RGB,
    line_width: float,
    antialias: int,
    depth_cue: bool,
    glow: bool,
    scanlines: bool,
    faces: Sequence[Sequence[int]] = (),
) -> Image.Image:
    ss = antialias
    image = Image.new("RGB", (size * ss, size * ss), background)
    draw = ImageDraw.Draw(image)
    if faces:
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        shade = ImageDraw.Draw(overlay)
        for face in sorted(faces, key=lambda f: sum(weights[i] for i in f)):
            depth = sum(weights[i] for i in face) / len(face)
            shade.polygon(
                [(points[i][0] * ss, points[i][1] * ss) for i in face],
                fill=(*colour, round(18 + 30 * depth)),
            )
        image.paste(overlay, (0, 0), overlay)
    width = max(1, round(line_width * ss))
    order = sorted(range(len(edges)), key=lambda e: weights[edges[e][0]] + weights[edges[e][1]])
    for e in order:  # far edges first: near ones are drawn over them
        a, b = edges[e]
        amount = 0.3 + 0.7 * (weights[a] + weights[b]) / 2 if depth_cue else 1.0
        draw.line(
            (points[a][0] * ss, points[a][1] * ss, points[b][0] * ss, points[b][1] * ss),
            fill=mix(background, colour, amount),
            width=width,
        )
    if ss > 1:
        image = image.reduce(ss)  # box filter: the supersampled antialiasing
    if glow:
        halo = image.reduce(4).filter(ImageFilter.GaussianBlur(2))
        image = ImageChops.screen(image, halo.resize(image.size, Image.Resampling.BILINEAR))
    if scanlines:
        image = ImageChops.multiply(image, _scanline_mask(size))
    return image


def encode_png(frame: Image.Image) -> bytes:
    out = io.BytesIO()
    frame.save(out, format="PNG", compress_level=6)
    return out.getvalue()


# Pillow's format and its own options for each animation kind (APNG for anything else).
_ANIMATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "webp": ("WEBP", {"quality": 85, "method": 4}),
    "gif": ("GIF", {"optimize": False}),
    "png": ("PNG", {}),
}


def encode_animation(frames: Sequence[Image.Image], fps: float, kind: str) -> bytes:
    """Animated WebP, GIF or APNG, looping forever."""
    out = io.BytesIO()
    duration = max(1, round(1000 / fps))
    first, rest = frames[0], list(frames[1:])
    image_format, options = _ANIMATIONS.get(kind, _ANIMATIONS["png"])
    first.save(
        out,
        format=image_format,
        save_all=True,
        append_images=rest,
        duration=duration,
        loop=0,
        **options,
    )
    return out.getvalue()
