"""Jobs on the durable-work core: held under a lease while their server lives; when it
stops, the reaper fails them once the lease runs out, and leaves the live jobs of
another server alone (start-up no longer fails every job); a resumable job (THE
FACTORY's) is resumed by the server that reaps it instead."""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.conftest import make_settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.jobs import Jobs, Turn
from tzzr.services import Services


def row(services: Services, job_id: str) -> Any:
    with services.engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def test_a_job_runs_under_a_lease_and_ends_once(tmp_path: Path) -> None:
    services = Services.build(make_settings(tmp_path / "home"))
    try:
        instance = services.add_instance("deck", default_flows=False)
        jobs = Jobs(services.engine, worker="server-a")
        running = threading.Event()
        release = threading.Event()

        def work(progress: Any) -> dict[str, Any]:
            progress(1, 2, "half")
            running.set()
            release.wait(10)
            return {"ok": True}

        job_id = jobs.start(instance, "test", {}, work)
        assert running.wait(10)
        during = row(services, job_id)
        assert (during.status, during.worker, during.attempt) == ("running", "server-a", 1)
        assert during.lease_until > datetime.now(UTC) and during.progress["step"] == "half"
        release.set()
        jobs.close()
        done = jobs.get(instance, job_id)
        assert done["status"] == "done" and done["result"] == {"ok": True}
        assert row(services, job_id).lease_until is None
    finally:
        services.close()


def test_the_reaper_fails_a_stopped_servers_job_and_leaves_a_live_one(tmp_path: Path) -> None:
    services = Services.build(make_settings(tmp_path / "home"))
    try:
        instance = services.add_instance("deck", default_flows=False)
        stopped = Jobs(services.engine, worker="server-a", lease_seconds=0.2)
        live = Jobs(services.engine, worker="server-b")
        hold = threading.Event()
        dead = stopped.start(instance, "test", {}, lambda p: {"never": hold.wait(30)})
        alive = live.start(instance, "test", {}, lambda p: {"done": hold.wait(30)})
        # server-a stops without a word: its heartbeat is gone, its lease runs out
        for holding in list(stopped._held.values()):
            holding.release()
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert live.reap(later) == 1
        failed = live.get(instance, dead)
        assert failed["status"] == "failed" and failed["error"]["code"] == "interrupted"
        assert row(services, alive).status in ("queued", "running")  # its lease is renewed
        hold.set()
        live.close()
        stopped.close()
        assert live.get(instance, alive)["status"] == "done"
        assert live.get(instance, dead)["status"] == "failed"  # its late answer is dropped
    finally:
        services.close()


def test_a_resumable_job_is_resumed_by_the_reaper_until_its_attempts_run_out(
    tmp_path: Path,
) -> None:
    """A kind registered with `resumable` runs from its request (a Turn); its stopped
    server's job is queued again by the reaping server and run there, attempt by attempt,
    until MAX_ATTEMPTS: then it fails as interrupted. A superseded attempt writes nothing."""
    services = Services.build(make_settings(tmp_path / "home"))
    try:
        instance = services.add_instance("deck", default_flows=False)
        seen: list[tuple[str, int, dict[str, Any]]] = []
        hold = threading.Event()
        held: list[bool] = []

        def work_of(name: str) -> Callable[[Turn], dict[str, Any]]:
            def work(turn: Turn) -> dict[str, Any]:
                seen.append((name, turn.attempt, turn.request))
                hold.wait(30)
                with write_transaction(services.engine) as conn:
                    held.append(turn.held(conn))
                return {"attempt": turn.attempt}

            return work

        servers = []
        for name in ("a", "b", "c", "d"):
            server = Jobs(services.engine, worker=f"server-{name}", lease_seconds=0.2)
            server.resumable("resumable", work_of(name))
            servers.append(server)
        job_id = servers[0].start(instance, "resumable", {"goal": "g"})
        for number, server in enumerate(servers[:3], 1):
            deadline = time.monotonic() + 10
            while len(seen) < number:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            for holding in list(server._held.values()):  # this server stops
                holding.release()
            reaper = servers[number]
            assert reaper.reap(datetime.now(UTC) + timedelta(seconds=1)) == 1
        assert [(w, a) for w, a, _ in seen] == [("a", 1), ("b", 2), ("c", 3)]
        assert all(request == {"goal": "g"} for _, _, request in seen)
        failed = servers[3].get(instance, job_id)
        assert failed["status"] == "failed" and failed["error"]["code"] == "interrupted"
        hold.set()
        for server in servers:
            server.close()
        assert held == [False, False, False]  # every attempt had been superseded
        assert servers[3].get(instance, job_id)["status"] == "failed"
    finally:
        services.close()
