"""The one cell invocation: parameters checked first, a blob's size checked before it is
read, the run's own time limit, a tracing span, the answer kept as blobs or inline."""

import hashlib
import time
from pathlib import Path

import pytest

from tzzr.blobs.local import LocalBlobStore
from tzzr.cells.answers import ResultKeeper
from tzzr.cells.base import Payload
from tzzr.cells.invoke import Blob, invoke
from tzzr.cells.registry import Registry
from tzzr.errors import InvalidInput, TooLarge
from tzzr.work.timelimit import TimedOut

CELLS = Registry.discover()


def test_a_blob_input_is_read_and_the_answer_kept_as_blobs(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    stored = store.put(b"hello")
    done = invoke(
        CELLS.get("test-echo"),
        "r1",
        Blob(store, stored.sha256, "bytes"),
        timeout_s=5,
        max_input_bytes=1024,
        keep=ResultKeeper().into(store),
    )
    expected = {"sha256": hashlib.sha256(b"hello").hexdigest(), "size": 5}
    assert done.kept.result == expected and done.payload.data == b"hello"
    assert done.kept.sha256 is not None and store.exists(done.kept.sha256)
    assert done.metrics["engine"] == "echo" and done.metrics["latencyMs"] == done.latency_ms


def test_an_input_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    stored = store.put(b"x" * 100)
    with pytest.raises(TooLarge):
        invoke(CELLS.get("test-echo"), "r", Blob(store, stored.sha256, "bytes"), max_input_bytes=10)
    with pytest.raises(TooLarge):  # bytes given directly are checked too
        invoke(CELLS.get("test-echo"), "r", Payload("bytes", b"x" * 100), max_input_bytes=10)


def test_parameters_are_checked_before_the_input_is_loaded() -> None:
    loaded: list[bool] = []

    def load() -> Payload:
        loaded.append(True)
        return Payload("none", b"")

    with pytest.raises(InvalidInput):
        invoke(CELLS.get("render-4d-hypercube"), "r", load, params={"size": 8})
    assert loaded == []


def test_the_runs_own_timeout_interrupts_the_cell() -> None:
    started = time.monotonic()
    with pytest.raises(TimedOut):
        invoke(
            CELLS.get("test-echo"), "r", Payload("bytes", b"x"), params={"sleepS": 5}, timeout_s=0.1
        )
    assert time.monotonic() - started < 2


def test_without_a_store_artifacts_come_back_inline() -> None:
    done = invoke(
        CELLS.get("render-4d-hypercube"),
        "r",
        Payload("none", b""),
        params={"size": 64, "frames": 2, "outputs": ["png"]},
    )
    (png,) = done.kept.result["artifacts"].values()
    assert png["mediaType"] == "image/png" and png["base64"]
    assert done.kept.sha256 is None and done.kept.artifacts == []
