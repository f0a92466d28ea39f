"""The executor in-process, on the durable-work core: a run claimed once, finished once
with its leaf; a cancelled run's answer dropped; a lease that ran out reaped (queued
again, or failed after its attempts)."""

import base64
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.conftest import make_settings
from tzzr.db.models import Run
from tzzr.queue import run_message
from tzzr.runs.service import RunBody, RunInput
from tzzr.services import Services


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Services]:
    services = Services.build(make_settings(tmp_path / "home", run_max_attempts=2))
    services.bootstrap()
    yield services
    services.close()


def submit(services: Services, data: bytes, **params: object) -> str:
    content = base64.b64encode(data).decode()
    body = RunBody(
        input=RunInput(type="bytes", encoding="base64", content=content), params=dict(params)
    )
    return services.runs.submit(services.instances.get("deck"), "test-echo", body).run_id


def test_a_run_is_claimed_once_and_finished_once(built: Services) -> None:
    run_id = submit(built, b"one")
    h = built.instances.get("deck").h_instancia
    executor = built.executor("w")
    assert executor.execute(run_message(h, run_id)) == "done"
    assert executor.execute(run_message(h, run_id)) == "skipped"  # a repeated message
    row = built.runs.get(built.instances.get("deck"), run_id)
    assert (row.status, row.attempt, row.worker) == ("done", 1, "w")
    assert row.leaf_index is not None and row.lease_until is None


def test_a_run_cancelled_while_it_runs_drops_its_answer(built: Services) -> None:
    instance = built.instances.get("deck")
    run_id = submit(built, b"two", sleepS=0.3)
    executor = built.executor("w")

    def cancel_soon() -> None:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while built.runs.get(instance, run_id).status != "running":
            assert datetime.now(UTC) < deadline
            time.sleep(0.005)  # polling, with a deadline
        built.runs.cancel(instance, run_id)

    thread = threading.Thread(target=cancel_soon)
    thread.start()
    assert executor.execute(run_message(instance.h_instancia, run_id)) == "discarded"
    thread.join()
    row = built.runs.get(instance, run_id)
    assert row.status == "cancelled" and row.leaf_index is None and row.result_sha is None


def test_a_run_whose_lease_ran_out_is_queued_again_then_failed(built: Services) -> None:
    instance = built.instances.get("deck")
    run_id = submit(built, b"three")
    past = datetime.now(UTC) - timedelta(seconds=1)
    with built.engine.begin() as conn:  # its worker died mid-run
        conn.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status="running", attempt=1, worker="dead", lease_until=past)
        )
    executor = built.executor("reaper")
    assert executor.reap() == [run_id]
    row = built.runs.get(instance, run_id)
    assert row.status == "queued" and row.error["code"] == "worker_lost"
    with built.engine.begin() as conn:  # and died again, on its last attempt
        conn.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(status="running", attempt=2, worker="dead", lease_until=past)
        )
    assert executor.reap() == []
    with built.engine.connect() as conn:
        status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar()
    assert status == "failed"
