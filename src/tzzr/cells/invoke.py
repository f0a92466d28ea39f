"""The one way a cell is invoked, for the run executor, flow steps, GRACE's runsync and
the RunPod handler: its parameters checked, its input resolved (a blob's stored size
checked against the cell's limit before a byte is read), the cell run under the run's
own time limit in a tracing span, and its answer kept (as blobs, or inline) with the
run's metrics.

Raises what the caller decides on: TzzrError (CellFailed, a bad parameter, an input
too large: no retry), TimedOut, or anything else the cell raised (a transient error)."""

import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tzzr.blobs import BlobStore
from tzzr.cells.answers import Kept, answer_metrics, inline
from tzzr.cells.base import Cell, CellContext, CellResult, Payload
from tzzr.cells.limits import check_input_size, read_input
from tzzr.sentinel import tracing
from tzzr.work.timelimit import TimedOut, time_limit

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Blob:
    """An input stored as a blob of `store` (the run's instance)."""

    store: BlobStore
    sha256: str
    type: str
    media_type: str | None = None
    size: int | None = None  # the size already known (an entry's file); else asked


# What a cell is given: a stored blob, bytes given directly, or a loader that makes them
# (GRACE's envelope, decoded only after the parameters passed).
Source = Blob | Payload | Callable[[], Payload]
Keep = Callable[[CellResult], Kept]


@dataclass(frozen=True)
class Invoked:
    answer: CellResult
    kept: Kept  # the result as stored (or inline), its blob and artifacts
    metrics: dict[str, Any]
    latency_ms: float  # resolving the input and running the cell
    payload: Payload  # what the cell was given


def _payload(cell: Cell, source: Source, max_input_bytes: int | None) -> Payload:
    if isinstance(source, Blob):
        if max_input_bytes is None:
            raise TypeError("a blob input needs max_input_bytes: its size is checked first")
        data = read_input(source.store, source.sha256, cell, max_input_bytes, source.size)
        return Payload(source.type, data, source.media_type)
    payload = source if isinstance(source, Payload) else source()
    if max_input_bytes is not None:
        check_input_size(cell, len(payload.data), max_input_bytes)
    return payload


def invoke(
    cell: Cell,
    run_id: str,
    source: Source,
    *,
    params: Mapping[str, Any] = NO_PARAMS,
    lang: str | None = None,
    timeout_s: float | None = None,
    max_input_bytes: int | None = None,
    keep: Keep = inline,
    deadline: float | None = None,
    trace: Mapping[str, Any] = NO_PARAMS,
) -> Invoked:
    """Run `cell` as the run `run_id` on `source`.

    `timeout_s` is the run's own limit (None: none; GRACE's caller passes `deadline`,
    the time.monotonic() when it stops waiting, which the cell's subprocesses get).
    `max_input_bytes` is the limit of a cell without its own (the
    `cell_max_input_bytes` setting); None: the loader checked it. `keep` stores the
    answer (`ResultKeeper.into(store)`); by default it comes back inline."""
    check = getattr(cell, "check_params", None)
    if check is not None:
        check(dict(params))
    if timeout_s is not None and hasattr(cell, "timeout_s"):
        cell.timeout_s = timeout_s  # a remote cell waits for its answer as long
    started = time.perf_counter()
    payload = _payload(cell, source, max_input_bytes)
    context = CellContext(run_id, lang, dict(params), deadline)
    with (
        time_limit(timeout_s) if timeout_s is not None else nullcontext(),
        tracing.span(f"cell {cell.meta.id}", version=cell.meta.version, run_id=run_id, **trace),
    ):
        answer = cell.run(context, payload)
    latency = (time.perf_counter() - started) * 1000
    if timeout_s is not None and latency > timeout_s * 1000:
        raise TimedOut  # past the limit where SIGALRM could not interrupt it
    rounded = round(latency, 3)
    return Invoked(answer, keep(answer), answer_metrics(answer, rounded), rounded, payload)
