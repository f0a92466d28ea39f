"""`tzzr demo` on a fresh data directory, as a newcomer runs it."""

import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_the_whole_pipeline(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    # No speech model set, as on a fresh install: the default one is assembled under
    # TZZR_HOME/models, here the demo's own directory.
    env = {**os.environ, "TZZR_HOME": str(home), "TZZR_ASR_DEVICE": "cpu"}
    env.pop("TZZR_ASR_MODEL_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "tzzr", "demo", "--dir", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("2. captured") for line in lines) == 3
    text = done.stdout
    assert "receipt-ocr/ocr (ocr-core" in text and "Panadería Muñoz" in text
    assert "receipt-ocr/fields (receipt-fields" in text and "total 8.7, currency EUR" in text
    assert "voice-note/asr (asr-engine" in text and "contract" in text  # heard, not failed
    assert text.count("decision: OK → FELDMAN") == 2  # the receipt and the voice note
    assert text.count("decision: incident → MASON") == 1  # the to-do photo has no amount
    assert "4. enriched todo.png in MASON" in text
    assert "5. sealed block 1: 9 leaves" in text  # 3 entries, 5 attestations, 1 enrichment
    assert "7. VALID (offline)" in text and "'receipt.png' of the entry" in text
    assert "8. search 'panaderia' (no accent): receipt.png (lunch receipt, total 8.70 EUR)" in text
    assert (home / "receipt.json").is_file()
    assert (home / "models" / "faster-whisper-base" / "model.bin.sha256").is_file()
    # the receipt verifies with the CLI too, offline
    offline = ["unshare", "-n"]
    if subprocess.run([*offline, "true"], capture_output=True, check=False).returncode != 0:
        offline = []  # no network namespaces here (test_receipt covers offline)
    check = subprocess.run(
        [
            *offline,
            sys.executable,
            "-m",
            "tzzr",
            "verify",
            str(home / "receipt.json"),
            "--file",
            str(home / "receipt.png"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert check.returncode == 0 and check.stdout.startswith("VALID"), check.stderr
    again = subprocess.run(
        [sys.executable, "-m", "tzzr", "demo", "--dir", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert again.returncode == 2 and "not empty" in again.stderr
