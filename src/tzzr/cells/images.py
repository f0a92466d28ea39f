"""The image formats cells open: the common ones a camera, a scanner or a phone writes.
Pillow knows more, some of which hand the bytes to other programs (EPS to Ghostscript),
so a cell opens only these."""

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF")


def formats() -> list[str]:
    """FORMATS this Pillow can open (AVIF needs a build with it)."""
    from PIL import Image

    Image.init()
    return [name for name in FORMATS if name in Image.OPEN]
