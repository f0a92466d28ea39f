"""GRACE's one code path: route a contract 2.1 envelope to its cell and shape the answer
as RunPod serverless does. `/grace/runsync` and the RunPod handler both call `execute`;
the cell is invoked as every run is (tzzr.cells.invoke), its artifacts inline."""

import uuid
from collections.abc import Callable
from typing import Any

from tzzr.cells.base import CellFailed, Payload
from tzzr.cells.envelope import Envelope
from tzzr.cells.invoke import invoke
from tzzr.cells.registry import Registry
from tzzr.errors import InvalidInput


def execute(
    cells: Registry,
    envelope: Envelope,
    load: Callable[[Envelope], Payload],
    run_id: str | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """`{"id", "status": "COMPLETED" | "FAILED", …}`. Raises NotFound for an unknown
    module and InvalidInput for a payload type the cell does not take; input the cell
    cannot process is a FAILED run with the reason. `deadline` (time.monotonic()) is
    when the caller stops waiting: the cell's subprocesses get what is left of it."""
    cell = cells.module(envelope.routing.module)
    if envelope.payload.type not in cell.accepts:
        raise InvalidInput(
            f"{cell.module} takes payloads of type {', '.join(sorted(cell.accepts))}, "
            f"not {envelope.payload.type!r}",
            field="payload.type",
        )
    run_id = run_id or uuid.uuid4().hex
    try:
        # `load` checks the payload's size (GRACE's limits): none checked here
        done = invoke(
            cell,
            run_id,
            lambda: load(envelope),
            params=envelope.params,
            lang=envelope.context.lang,
            deadline=deadline,
        )
    except CellFailed as exc:
        return {
            "id": run_id,
            "status": "FAILED",
            "error": exc.message,
            "output": {"status": "error", **exc.body()},
        }
    latency = round(done.latency_ms, 1)
    return {
        "id": run_id,
        "status": "COMPLETED",
        "executionTime": latency,
        "output": {
            "status": "ok",
            "result": done.kept.result,
            "metrics": {**done.metrics, "latencyMs": latency},
        },
    }
