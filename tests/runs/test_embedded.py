"""`tzzr serve` runs an embedded worker: a run completes with nothing else started, a
client can wait for it without polling, and the worker goes when the server is killed."""

import base64
import os
import signal
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port, server_process


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_serve_runs_an_embedded_worker_that_leaves_with_it(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {"TZZR_HOME": str(tmp_path / "home"), "TZZR_TEST_CELLS": "1"}
    with server_process(env, port, log) as process:
        key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
        assert "Embedded worker" in log.read_text()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as client:
            body = {
                "input": {
                    "type": "bytes",
                    "encoding": "base64",
                    "content": base64.b64encode(b"hi").decode(),
                },
                "params": {"sleepS": 0.3},
            }
            run_id = client.post("/api/cells/test-echo/run", json=body).json()["runId"]
            started = time.monotonic()
            run = client.get(f"/api/runs/{run_id}", params={"wait": 30}, timeout=40).json()
            assert run["status"] == "done", run
            assert time.monotonic() - started < 10
            short = client.get(f"/api/runs/{run_id}", params={"wait": 61})
            assert short.status_code == 422 and short.json()["error"]["field"] == "wait"
        workers = _children(process.pid)
        assert workers, "the embedded worker is a child of the server"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in workers):
            assert time.monotonic() < deadline, "the worker outlived its server"
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
