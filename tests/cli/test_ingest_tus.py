"""`tzzr ingest --url` above --tus-threshold: tus uploads that resume after the CLI is
killed (SIGKILL) mid-upload, ingested by reference; below it, the multipart path."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import Live, make_settings, running
from tzzr.canonical import h_entrada
from tzzr.cli import app
from tzzr.db.models_uploads import Upload

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _uploads(live: Live) -> int:
    with live.services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Upload)).scalar_one())


def _cli(live: Live, path: Path, state: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tzzr",
        "ingest",
        str(path),
        "--url",
        live.url,
        "--key",
        live.admin_key,
        "--tus-threshold",
        "1MiB",
        "--chunk-size",
        "1MiB",
        "--state-dir",
        str(state),
        *extra,
    ]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("TZZR_URL", "TZZR_KEY")}


def _kill_mid_upload(live: Live, path: Path, state: Path, at_least: int) -> tuple[str, int]:
    """Start the CLI slowed to 4 MiB/s, SIGKILL it once the server holds `at_least`
    bytes; the upload's URL (from the state file) and the server's offset then."""
    process = subprocess.Popen(
        _cli(live, path, state, "--limit-rate", "4MiB"),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        url, offset = None, 0
        with live.client() as client:
            while time.monotonic() < deadline and process.poll() is None:
                files = list(state.glob("*.json"))
                if files and url is None:
                    url = json.loads(files[0].read_text())["upload_url"]
                if url is not None:
                    offset = int(client.head(url, headers=TUS).headers["upload-offset"])
                    if offset >= at_least:
                        break
                time.sleep(0.05)
        assert process.poll() is None, "the upload finished before it could be killed"
        assert url is not None
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    with live.client() as client:
        offset = int(client.head(url, headers=TUS).headers["upload-offset"])
    return url, offset


def test_a_killed_upload_resumes_and_is_ingested_by_reference(tmp_path: Path) -> None:
    data = os.urandom(12 * MiB + 12345)
    path = tmp_path / "recording.bin"
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    state = tmp_path / "state"
    with running(make_settings(tmp_path / "srv")) as live:
        _, offset = _kill_mid_upload(live, path, state, 3 * MiB)
        assert 0 < offset < len(data)
        assert len(list(state.glob("*.json"))) == 1
        again = subprocess.run(
            _cli(live, path, state), env=_env(), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        # It went on from the server's offset: only the rest was sent again.
        assert f"resuming at {offset} of {len(data)} bytes" in again.stderr
        assert "of 12.0 MiB (100%)" in again.stderr  # progress as plain lines: no terminal
        status, address, shown = again.stdout.strip().split("\t")
        assert (status, shown) == ("new", str(path))
        file = {
            "name": "recording.bin",
            "media_type": "application/octet-stream",
            "sha256": digest,
            "size": len(data),
        }
        assert address == h_entrada({}, [file])  # the address an inline upload gets
        deck = live.services.instances.get("deck")
        entry = live.services.entries.get(deck, address)
        assert entry["contenedor"]["files"] == [file]
        assert live.services.blobs.scoped(deck.blob_prefix).verify(digest)
        assert _uploads(live) == 1  # resumed, not started over
        assert list(state.glob("*")) == []  # forgotten once ingested


def test_an_upload_the_server_no_longer_has_starts_over(tmp_path: Path) -> None:
    data = os.urandom(6 * MiB)
    path = tmp_path / "scan.pdf"
    path.write_bytes(data)
    state = tmp_path / "state"
    with running(make_settings(tmp_path / "srv")) as live:
        url, offset = _kill_mid_upload(live, path, state, 1 * MiB)
        assert offset > 0
        with live.client() as client:
            assert client.delete(url, headers=TUS).status_code == 204
        again = subprocess.run(
            _cli(live, path, state), env=_env(), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "no longer has the earlier upload; starting over" in again.stderr
        assert "resuming" not in again.stderr
        address = again.stdout.split("\t")[1]
        deck = live.services.instances.get("deck")
        [file] = live.services.entries.get(deck, address)["contenedor"]["files"]
        assert (file["sha256"], file["media_type"]) == (
            hashlib.sha256(data).hexdigest(),
            "application/pdf",
        )


def test_a_file_changed_since_the_interruption_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "video.bin"
    path.write_bytes(os.urandom(6 * MiB))
    state = tmp_path / "state"
    with running(make_settings(tmp_path / "srv")) as live:
        _, offset = _kill_mid_upload(live, path, state, 1 * MiB)
        assert offset > 0
        changed = os.urandom(6 * MiB)
        path.write_bytes(changed)
        os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
        again = subprocess.run(
            _cli(live, path, state), env=_env(), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert "resuming" not in again.stderr
        deck = live.services.instances.get("deck")
        [file] = live.services.entries.get(deck, again.stdout.split("\t")[1])["contenedor"]["files"]
        assert file["sha256"] == hashlib.sha256(changed).hexdigest()
        assert _uploads(live) == 2
        assert list(state.glob("*")) == []


def test_below_the_threshold_the_multipart_path_is_used(tmp_path: Path) -> None:
    small, large = tmp_path / "note.txt", tmp_path / "large.bin"
    small.write_bytes(b"a small note")
    large.write_bytes(os.urandom(2 * MiB))
    runner = CliRunner()
    with running(make_settings(tmp_path / "srv")) as live:
        args = ["--url", live.url, "--key", live.admin_key, "--state-dir", str(tmp_path / "s")]
        first = runner.invoke(app, ["ingest", str(small), "--tus-threshold", "1MiB", *args])
        assert first.exit_code == 0, first.output
        assert first.stdout.startswith("new\t")
        assert _uploads(live) == 0
        second = runner.invoke(app, ["ingest", str(large), "--tus-threshold", "1MiB", *args])
        assert second.exit_code == 0, second.output
        assert _uploads(live) == 1
        # The same file below a higher threshold: multipart, and the same address (409).
        third = runner.invoke(app, ["ingest", str(large), "--tus-threshold", "8MiB", *args])
        assert third.exit_code == 0, third.output
        assert third.stdout.split("\t")[:2] == ["duplicate", second.stdout.split("\t")[1]]
        assert _uploads(live) == 1


def test_clear_errors(tmp_path: Path) -> None:
    large = tmp_path / "large.bin"
    large.write_bytes(os.urandom(3 * MiB))
    runner = CliRunner()
    base = ["ingest", str(large), "--tus-threshold", "1MiB", "--state-dir", str(tmp_path / "s")]
    settings = make_settings(tmp_path / "srv", max_file_bytes=2 * MiB)
    with running(settings) as live:
        wrong = runner.invoke(app, [*base, "--url", live.url, "--key", "tzzr_nokey_nosecret"])
        assert wrong.exit_code == 1
        assert "refused the key (401)" in wrong.stderr
        big = runner.invoke(app, [*base, "--url", live.url, "--key", live.admin_key])
        assert big.exit_code == 1
        assert "too large for this server" in big.stderr
        assert "2097152" in big.stderr  # the server's limit, as it says it
        port = httpx.URL(live.url).port
    down = runner.invoke(app, [*base, "--url", f"http://127.0.0.1:{port}", "--key", "k"])
    assert down.exit_code == 1
    assert "is the server running?" in down.stderr
    bad = runner.invoke(app, [*base, "--url", "http://127.0.0.1:1", "--chunk-size", "lots"])
    assert bad.exit_code == 2
    assert "--chunk-size takes a size" in bad.stderr
