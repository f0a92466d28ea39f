"""Draws the web app's icons (src/tzzr/web/static/icons/*.png) with Pillow: a stack of
three sealed blocks, the ledger, on the app's dark background. The maskable one keeps
its drawing inside the central 80 % circle that Android may crop it to (the W3C
manifest's safe zone). Run `python scripts/make_icons.py` after changing the drawing;
the PNGs are committed."""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "src" / "tzzr" / "web" / "static" / "icons"
BACKGROUND = (15, 17, 23, 255)  # app.css --bg
PANEL = (23, 26, 35, 255)  # --panel
ACCENT = (79, 195, 247, 255)  # --accent
OK = (95, 211, 141, 255)  # --ok


def draw(size: int, maskable: bool) -> Image.Image:
    scale = 4  # drawn large and scaled down: smooth edges without antialiasing support
    big = size * scale
    image = Image.new("RGBA", (big, big), BACKGROUND if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BACKGROUND)
    # the drawing's box: the safe zone (80 %) of a maskable icon, 76 % of a plain one
    box = big * (0.56 if maskable else 0.64)
    left = (big - box) / 2
    top = (big - box) / 2
    height = box / 4
    gap = (box - 3 * height) / 2
    for row in range(3):
        y = top + row * (height + gap)
        colour = OK if row == 2 else ACCENT
        pen.rounded_rectangle(
            (left, y, left + box, y + height),
            radius=height / 3,
            fill=PANEL,
            outline=colour,
            width=max(2, round(big / 40)),
        )
        if row < 2:  # the link from each block to the next
            x = big / 2
            pen.line((x, y + height, x, y + height + gap), fill=colour, width=round(big / 36))
    dot = height / 5
    for row in range(3):
        cy = top + row * (height + gap) + height / 2
        cx = left + height / 2 + dot
        pen.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=OK if row == 2 else ACCENT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
