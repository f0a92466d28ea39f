"""A cell's input limit: an input over it is refused before a byte of it is read — 413
when the run is asked for, a `too_large` run or step in the worker — and the memory
the worker used is measured to show that the blob was never read (SQLite + local disk,
and PostgreSQL + S3, where the size is a HEAD request)."""

import base64
import hashlib
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import make_settings, running
from tzzr.blobs import BlobStore
from tzzr.cells.catalog import Specialized
from tzzr.cells.limits import SETTING, check_input_size, input_limit, read_input
from tzzr.db.models import Execution
from tzzr.errors import TooLarge
from tzzr.flows.spec import validate
from tzzr.queue import RunQueue
from tzzr.runs.service import RunBody, RunInput
from tzzr.services import Services

MiB = 1024 * 1024
BIG = 64 * MiB  # the blob over the limit; the worker must never hold it
LIMIT = 1 * MiB


@pytest.fixture
def built(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Services]:
    backend = getattr(request, "param", "sqlite-local")
    settings = make_settings(tmp_path / "home", backend, cell_max_input_bytes=256 * MiB)
    services = Services.build(settings)
    services.bootstrap()
    yield services
    services.close()


def put_big(store: BlobStore, size: int = BIG) -> str:
    """A blob of `size` random bytes, streamed in (the test holds 1 MiB at a time)."""
    with store.writer() as writer:
        for _ in range(size // MiB):
            writer.write(os.urandom(MiB))
        return writer.commit().sha256


def peak_bytes(work: Callable[[], Any]) -> tuple[Any, int]:
    """What `work` returns, and the most memory (Python allocations) it held at once."""
    tracemalloc.start()
    try:
        return work(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def blob_input(sha: str) -> RunInput:
    return RunInput(type="bytes", encoding="blob", content=sha)


def test_a_run_over_the_limit_is_refused_when_it_is_asked_for(built: Services) -> None:
    instance = built.instances.get("deck")
    sha = put_big(built.ingest.store_for(instance), 2 * MiB)
    built.settings.cell_max_input_bytes = LIMIT
    with pytest.raises(TooLarge) as caught:
        built.runs.submit(instance, "test-echo", RunBody(input=blob_input(sha)))
    assert caught.value.status == 413 and caught.value.field == "input"
    assert SETTING in caught.value.message and f"({LIMIT} bytes" in caught.value.message
    assert built.runs.list(instance, "test-echo", None, 10) == []  # nothing queued


def test_a_base64_input_over_the_limit_is_refused_before_it_is_stored(built: Services) -> None:
    instance = built.instances.get("deck")
    built.settings.cell_max_input_bytes = LIMIT
    data = b"y" * (LIMIT + 1)
    given = RunInput(type="bytes", encoding="base64", content=base64.b64encode(data).decode())
    with pytest.raises(TooLarge):
        built.runs.submit(instance, "test-echo", RunBody(input=given))
    sha = hashlib.sha256(data).hexdigest()
    assert built.ingest.store_for(instance).size(sha) is None  # no orphan for gc


BOTH_SHAPES = pytest.mark.parametrize("built", ["sqlite-local", "postgresql-s3"], indirect=True)


@BOTH_SHAPES
def test_the_worker_refuses_a_blob_over_the_limit_without_reading_it(built: Services) -> None:
    instance = built.instances.get("deck")
    sha = put_big(built.ingest.store_for(instance))
    submitted = built.runs.submit(instance, "test-echo", RunBody(input=blob_input(sha)))
    # Lowered after the run was queued (a new setting, a cell upgraded): the worker checks
    # again, and the stored size decides before the bytes are read.
    built.settings.cell_max_input_bytes = LIMIT
    taken = built.queue.take_any(["cpu"], wait=False)
    assert taken is not None
    status, peak = peak_bytes(lambda: built.executor("w").execute(RunQueue.payload(taken[1])))
    assert status == "failed"
    row = built.runs.get(instance, submitted.run_id)
    assert row.error["code"] == "too_large"
    assert SETTING in row.error["message"] and "64.0 MiB" in row.error["message"]
    assert peak < BIG // 8, f"the worker held {peak} bytes: it read the blob"


@BOTH_SHAPES
def test_a_flow_step_over_its_cells_limit_fails_too_large_unread(built: Services) -> None:
    instance = built.instances.get("deck")
    store = built.ingest.store_for(instance)
    sha = put_big(store)
    spec = validate(
        {
            "id": "big-echo",
            "trigger": {"on": "manual"},
            "steps": [{"id": "a", "cell": "test-echo"}],
        }
    )
    built.flows.create(instance.h_instancia, spec)
    execution = built.alfred.start(instance, "big-echo", given=blob_input(sha), store=store)
    built.settings.cell_max_input_bytes = LIMIT
    status, peak = peak_bytes(lambda: built.alfred.runner.advance(execution, "w"))
    assert status == "failed"
    with built.engine.connect() as conn:
        row = conn.execute(select(Execution).where(Execution.id == execution)).one()
    assert row.error["code"] == "too_large" and SETTING in row.error["message"]
    assert peak < BIG // 8, f"the step held {peak} bytes: it read the blob"


def test_a_cells_own_limit_wins_and_a_specialized_version_keeps_it(built: Services) -> None:
    cell = built.catalog.local.get("test-echo")
    assert input_limit(cell, 123) == 123  # no limit of its own: the setting's
    special = Specialized(cell, cell.meta.model_copy(update={"version": "1.1.0"}))
    try:
        cell.max_input_bytes = 10  # type: ignore[attr-defined]
        assert input_limit(cell, 123) == 10 and input_limit(special, 123) == 10
        with pytest.raises(TooLarge, match="the test-echo cell's max_input_bytes"):
            check_input_size(special, 11, 123)
        check_input_size(special, 10, 123)  # at the limit is fine
    finally:
        del cell.max_input_bytes  # type: ignore[attr-defined]


def test_read_input_trusts_a_known_size_and_asks_the_store_otherwise(built: Services) -> None:
    store = built.ingest.store_for(built.instances.get("deck"))
    data = os.urandom(1000)
    sha = store.put(data).sha256
    cell = built.catalog.local.get("test-echo")
    assert read_input(store, sha, cell, 1000) == data
    with pytest.raises(TooLarge):
        read_input(store, sha, cell, 999)
    with pytest.raises(TooLarge):  # an entry's recorded size decides, no store round trip
        read_input(store, sha, cell, 1000, size=5000)
    with pytest.raises(FileNotFoundError):
        read_input(store, hashlib.sha256(b"none").hexdigest(), cell, 1000)


def envelope(encoding: str, content: str) -> dict[str, Any]:
    return {
        "contract_version": "2.1",
        "routing": {"module": "TEST_ECHO"},
        "payload": {"type": "bytes", "encoding": encoding, "content": content},
    }


def test_over_http_a_blob_over_the_limit_is_413_naming_the_setting(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", cell_max_input_bytes=LIMIT)
    data = os.urandom(2 * MiB)
    with running(settings) as live, live.client() as client:
        stored = client.post("/ingest", files={"file": ("big.bin", data, "application/x-big")})
        assert stored.status_code == 200, stored.text
        sha = hashlib.sha256(data).hexdigest()
        run = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "blob", "content": sha}},
        )
        runsync = client.post("/grace/runsync", json={"input": envelope("blob", sha)})
        small = envelope("base64", base64.b64encode(b"x" * 100).decode())
        fine = client.post("/grace/runsync", json={"input": small})
    for answer, field in ((run, "input"), (runsync, "payload.content")):
        assert answer.status_code == 413, answer.text
        error = answer.json()["error"]
        assert error["code"] == "too_large" and error["field"] == field
        assert SETTING in error["message"] and "2.0 MiB" in error["message"]
    assert fine.status_code == 200 and fine.json()["status"] == "COMPLETED", fine.text
