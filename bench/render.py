"""Render benchmark (issue 5): ms per 512x512 antialiased frame for render-3d-holocube
and render-4d-hypercube (goal <= 16 ms, the TAMV example's 60 fps), beside a reference
measured in the same run: the same number of frames drawn by a bare Pillow loop with the
same line count (no antialiasing, no effects). Frames only: encoding is timed apart."""

import argparse
import math
import time

from PIL import Image, ImageDraw

from tzzr.cells.base import CellContext, Payload
from tzzr.cells.render import geometry
from tzzr.cells.render.cells import HolocubeCell, HypercubeCell


def bare_pillow(frames: int, lines: int, size: int) -> float:
    """Seconds per frame: a new image and `lines` straight lines, nothing else."""
    started = time.perf_counter()
    for f in range(frames):
        image = Image.new("RGB", (size, size))
        draw = ImageDraw.Draw(image)
        for k in range(lines):
            a = (f + k) * 0.37
            draw.line(
                (
                    size / 2 + math.cos(a) * size * 0.4,
                    size / 2 + math.sin(a) * size * 0.4,
                    size / 2 - math.sin(a) * size * 0.3,
                    size / 2 + math.cos(a) * size * 0.3,
                ),
                fill=(0, 229, 255),
                width=2,
            )
        image.tobytes()
    return (time.perf_counter() - started) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    size = 512
    print(f"## {args.frames} frames of {size}x{size}, antialiased (2x supersampling)\n")
    print(f"{'cell':24} {'ms/frame':>9} {'fps':>7} {'bare Pillow':>12} {'ratio':>7}  encode")
    for cell, dims in ((HolocubeCell(), 3), (HypercubeCell(), 4)):
        lines = len(geometry.hypercube(dims)[1])
        params = {"size": size, "frames": args.frames, "outputs": ["webp"], "antialias": 2}
        bare = bare_pillow(args.frames, lines, size)
        started = time.perf_counter()
        result = cell.run(CellContext("bench", None, params), Payload("none", b""))
        total = time.perf_counter() - started
        per_frame = result.metrics["msPerFrame"]
        encode = total - per_frame * args.frames / 1000
        goal = "ok" if per_frame <= 16 else "over the 16 ms goal"
        print(
            f"{cell.meta.id:24} {per_frame:9.2f} {1000 / per_frame:7.0f} {bare * 1000:10.2f}ms "
            f"{per_frame / (bare * 1000):6.1f}x  webp {encode * 1000 / args.frames:.1f} ms/frame"
            f"   ({goal}; {lines} lines)"
        )


if __name__ == "__main__":
    main()
