"""kill -9 the server in the middle of a stream of ingests: every acknowledged entry
survives with its blobs, nothing is half written, and `tzzr gc` clears the orphans."""

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_database
from tests.e2e.conftest import free_port, server_process
from tzzr.config import Settings
from tzzr.services import Services


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_acknowledged_entries_survive_kill_9(db: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"TZZR_HOME": str(home)}
    if db == "postgresql":
        env["TZZR_DATABASE_URL"] = postgres_database()
    port = free_port()
    log = tmp_path / "server.log"
    acknowledged: dict[str, list[str]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    with server_process(env, port, log) as process:
        key = log.read_text().splitlines()
        key_line = next(line for line in key if line.startswith("tzzr_"))

        def client_loop(worker: int) -> None:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=10,
                headers={"Authorization": f"Bearer {key_line}"},
            ) as client:
                n = 0
                while not stop.is_set():
                    n += 1
                    files = [os.urandom(64 * 1024 * (1 + n % 4)) for _ in range(1 + n % 2)]
                    try:
                        response = client.post(
                            "/ingest",
                            data={"metadata": f'{{"w": {worker}, "n": {n}}}'},
                            files=[("file", (f"{i}.bin", f)) for i, f in enumerate(files)],
                        )
                    except httpx.TransportError:
                        return
                    if response.status_code == 200:
                        with lock:
                            acknowledged[response.json()["h_entrada"]] = [
                                hashlib.sha256(f).hexdigest() for f in files
                            ]

        threads = [threading.Thread(target=client_loop, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()  # SIGKILL: no shutdown, no flush
        process.wait()
        stop.set()
        for thread in threads:
            thread.join()

    assert len(acknowledged) >= 40
    settings = Settings(home=home, database_url=env.get("TZZR_DATABASE_URL", ""))
    services = Services.build(settings)
    try:
        deck = services.instances.get("deck")
        store = services.ingest.store_for(deck)
        for h, digests in acknowledged.items():
            entry = services.entries.get(deck, h)
            assert [f["sha256"] for f in entry["contenedor"]["files"]] == digests
        # No entry anywhere lacks a blob, acknowledged or not.
        entries, cursor = services.entries.list(deck, limit=500)
        while cursor:
            more, cursor = services.entries.list(deck, limit=500, cursor=cursor)
            entries += more
        assert len(entries) >= len(acknowledged)
        referenced = {f["sha256"] for e in entries for f in e["contenedor"]["files"]}
        for digest in referenced:
            assert store.verify(digest), digest
        # Orphans (blobs whose entry never committed) are what gc removes.
        result = subprocess.run(
            [sys.executable, "-m", "tzzr", "gc", "--grace", "0"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        )
        assert "removed" in result.stderr
        assert {b.sha256 for b in store.list()} == referenced
        assert not any((home / "blobs" / ".tmp").iterdir())
    finally:
        services.close()

    # And the restarted server serves them.
    with server_process(env, port, log):
        first = next(iter(acknowledged))
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key_line}"}
        ) as client:
            assert client.get(f"/entries/{first}").status_code == 200
