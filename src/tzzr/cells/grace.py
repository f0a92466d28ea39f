"""GRACE's one code path: route a contract 2.1 envelope to its cell and shape the answer
as RunPod serverless does. `/grace/runsync` and the RunPod handler both call `execute`."""

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Any

from tzzr.cells.base import CellContext, CellFailed, Payload
from tzzr.cells.envelope import Envelope
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
    check = getattr(cell, "check_params", None)
    if check is not None:
        check(dict(envelope.params))
    run_id = run_id or uuid.uuid4().hex
    context = CellContext(run_id, envelope.context.lang, dict(envelope.params), deadline)
    started = time.perf_counter()
    try:
        result = cell.run(context, load(envelope))
    except CellFailed as exc:
        return {
            "id": run_id,
            "status": "FAILED",
            "error": exc.message,
            "output": {"status": "error", **exc.body()},
        }
    latency = round((time.perf_counter() - started) * 1000, 1)
    answer = dict(result.result)
    if result.artifacts:  # inline: GRACE has no blob store of its own
        answer["artifacts"] = {
            name: {
                "mediaType": art.media_type,
                "size": len(art.data),
                "sha256": hashlib.sha256(art.data).hexdigest(),
                "base64": base64.b64encode(art.data).decode(),
            }
            for name, art in result.artifacts.items()
        }
    return {
        "id": run_id,
        "status": "COMPLETED",
        "executionTime": latency,
        "output": {
            "status": "ok",
            "result": answer,
            "metrics": {
                **result.metrics,
                "latencyMs": latency,
                "engine": result.engine,
                "model": result.model,
                "device": result.device,
            },
        },
    }
