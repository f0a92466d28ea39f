"""`tzzr serve` seals blocks by itself every TZZR_BLOCK_INTERVAL."""

import time
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from tests.e2e.conftest import free_port, server_process
from tzzr.db.models import WorkLease


def test_the_server_seals_by_itself(tmp_path: Path) -> None:
    port = free_port()
    home = tmp_path / "home"
    env = {"TZZR_HOME": str(home), "TZZR_BLOCK_INTERVAL": "1"}
    log = tmp_path / "server.log"
    with server_process(env, port, log):
        key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
        database = create_engine(f"sqlite:///{home / 'tzzr.db'}")

        def sealing_turn() -> datetime | None:  # the scheduler's turn of the seal job
            with database.connect() as conn:
                found = conn.execute(
                    select(WorkLease.lease_until).where(WorkLease.name == "seal")
                ).scalar()
            return found if isinstance(found, datetime) else None

        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as client:
            assert client.post("/ingest", json={"metadata": {"auto": 1}}).status_code == 200
            deadline = time.monotonic() + 15
            blocks: list[dict[str, object]] = []
            while not blocks and time.monotonic() < deadline:
                time.sleep(0.05)  # polling, with a deadline
                blocks = client.get("/bloques").json()["blocks"]
            assert [b["tree_size"] for b in blocks] == [1]
            # an empty interval makes no block: wait for two more turns of the job
            after = sealing_turn()
            assert after is not None
            turns = 0
            while turns < 2:
                assert time.monotonic() < deadline + 15, "the seal job stopped running"
                time.sleep(0.05)
                now = sealing_turn()
                if now is not None and now > after:
                    after, turns = now, turns + 1
            assert len(client.get("/bloques").json()["blocks"]) == 1
        database.dispose()
