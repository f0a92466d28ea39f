"""Make the bundled sample captures in src/tzzr/samples (committed; run again to remake):
a receipt photo rendered from known text, and a spoken note synthesized with espeak-ng.
Needs fonts-dejavu-core, espeak-ng and sox (scripts/system-deps.sh test)."""

import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "src" / "tzzr" / "samples"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
RECEIPT = [
    "Panadería Muñoz",
    "Calle Mayor 12, Madrid",
    "Café con leche      2,10",
    "Tostada con tomate  3,40",
    "Zumo de naranja     3,20",
    "Total a pagar: 8,70 EUR",
    "¡Gracias por su visita!",
]
WHITEBOARD = ["Call Ana about the lease", "Water the office plants", "Book the train to Sevilla"]
NOTE = "Remember to send the signed contract to the accountant before Friday."
NOTA = "Recuerda enviar el contrato firmado antes del viernes."


def receipt() -> None:
    font = ImageFont.truetype(FONT, 34)
    image = Image.new("L", (760, 90 + 60 * len(RECEIPT)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(RECEIPT):
        draw.text((40, 45 + 60 * i), line, font=font, fill=0)
    image.save(OUT / "receipt.png", optimize=True)
    (OUT / "receipt.txt").write_text("\n".join(RECEIPT) + "\n")


def whiteboard() -> None:
    """A photo of a to-do list: text but no amount, so the receipt flow asks a person."""
    font = ImageFont.truetype(FONT, 34)
    image = Image.new("L", (760, 90 + 60 * len(WHITEBOARD)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(WHITEBOARD):
        draw.text((40, 45 + 60 * i), line, font=font, fill=0)
    image.save(OUT / "todo.png", optimize=True)
    (OUT / "todo.txt").write_text("\n".join(WHITEBOARD) + "\n")


def note() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), NOTE], check=True)
        subprocess.run(
            ["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(OUT / "note.wav")],
            check=True,
        )
    (OUT / "note.txt").write_text(NOTE + "\n")


def nota() -> None:
    """A Spanish voice note, slow (espeak-ng's Spanish at its normal speed is too fast for
    the base model), trimmed of the silence at both ends to stay under 200 KB."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "es", "-s", "90", "-w", str(raw), NOTA], check=True)
        out = OUT / "nota.wav"
        trim = ["silence", "1", "0.02", "0.1%", "reverse"]  # twice: the start, then the end
        subprocess.run(
            ["sox", "-D", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), *trim, *trim],
            check=True,
        )
    (OUT / "nota.txt").write_text(NOTA + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    receipt()
    whiteboard()
    note()
    nota()
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(OUT.parent.parent.parent)}\t{path.stat().st_size} bytes")
