"""Cells for the tests and benchmarks: they behave as their params say (sleep, fail on
the input, raise a transient error, or kill their own process), so that the queue's
retries, time limits and leases can be tested with real worker processes. They stay out
of the registry unless TZZR_TEST_CELLS=1 (a factory may return None)."""

import hashlib
import os
import time
from pathlib import Path

from tzzr.cells.base import CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell


def _meta(cell_id: str, description: str) -> KnowledgeCell:
    return KnowledgeCell(
        id=cell_id,
        type="test",
        version="1.0.0",
        description=description,
        api_endpoint=f"/api/cells/{cell_id}/run",
        microservice_url="",
        author="TZZR tests",
    )


class _Echo:
    module = "TEST_ECHO"
    accepts = frozenset({"bytes", "text", "image", "audio"})
    timeout_s: float | None = None

    def __init__(self) -> None:
        self.meta = _meta("test-echo", "Echoes the input's digest; behaves as params say.")

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        params = context.params
        marker = params.get("markDir")
        if marker:  # one file per attempt, so that tests can count executions
            Path(marker).mkdir(parents=True, exist_ok=True)
            (Path(marker) / f"{context.run_id}.{time.monotonic_ns()}").touch()
        if params.get("sleepS"):
            time.sleep(float(params["sleepS"]))
        fail = params.get("fail")
        if fail == "input":
            raise CellFailed("the test input is refused, as asked", field="params.fail")
        if fail == "crash":
            os._exit(9)  # the whole worker process dies mid-run
        if fail == "flaky":
            count = len(list(Path(marker).glob(f"{context.run_id}.*"))) if marker else 1
            if count < int(params.get("succeedOn", 2)):
                raise RuntimeError(f"transient failure on attempt {count}")
        return CellResult(
            {"sha256": hashlib.sha256(payload.data).hexdigest(), "size": len(payload.data)},
            engine="echo",
        )


class _Noop:
    module = "TEST_NOOP"
    accepts = frozenset({"bytes"})

    def __init__(self) -> None:
        self.meta = _meta("test-noop", "Does nothing: the queue's own cost.")

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        return CellResult({}, engine="noop")


class _Tune:
    """A cell with a numeric parameter to tune and a trade-off: `sleepMs` is its
    latency, and under 10 ms its answer is "blurry" (its test case wants "sharp")."""

    module = "TEST_TUNE"
    accepts = frozenset({"text", "bytes"})

    def __init__(self) -> None:
        self.meta = _meta("test-tune", "Sleeps sleepMs; sharp only when it takes 10 ms or more.")
        self.meta = self.meta.model_copy(
            update={
                "input_format": {"params": {"sleepMs": "int 0..100 (80)"}},
                "test_cases": [
                    {
                        "name": "sharp",
                        "input": {"type": "text", "base64": "aGVsbG8="},
                        "expect": {"contains": ["sharp"]},
                    }
                ],
            }
        )

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        sleep_ms = float(context.params.get("sleepMs", 80))
        time.sleep(sleep_ms / 1000)
        return CellResult({"text": "sharp" if sleep_ms >= 10 else "blurry"}, engine="tune")


def _enabled() -> bool:
    return os.environ.get("TZZR_TEST_CELLS") == "1"


def EchoCell() -> _Echo | None:
    return _Echo() if _enabled() else None


def NoopCell() -> _Noop | None:
    return _Noop() if _enabled() else None


def TuneCell() -> _Tune | None:
    return _Tune() if _enabled() else None
