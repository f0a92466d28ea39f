"""`tzzr serve` seals blocks by itself every TZZR_BLOCK_INTERVAL."""

import time
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port, server_process


def test_the_server_seals_by_itself(tmp_path: Path) -> None:
    port = free_port()
    env = {"TZZR_HOME": str(tmp_path / "home"), "TZZR_BLOCK_INTERVAL": "1"}
    log = tmp_path / "server.log"
    with server_process(env, port, log):
        key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as client:
            assert client.post("/ingest", json={"metadata": {"auto": 1}}).status_code == 200
            deadline = time.monotonic() + 15
            blocks: list[dict[str, object]] = []
            while not blocks and time.monotonic() < deadline:
                time.sleep(0.2)
                blocks = client.get("/bloques").json()["blocks"]
            assert [b["tree_size"] for b in blocks] == [1]
            time.sleep(2.5)  # an empty interval makes no block
            assert len(client.get("/bloques").json()["blocks"]) == 1
