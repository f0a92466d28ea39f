"""A worker's side of ALFRED's executions. The steps run in order, each as a cell run
recorded with a deterministic id (`<execution>-<step>`) in the same transaction as the
execution's progress: after a kill -9 the execution resumes from its last finished step
and no finished run is repeated. Then the decision sends the entry to FELDMAN (OK:
`consolidated`) or to MASON (incident: `enriching`, with a deadline). A failed step
fails the execution with its error and sends the entry to MASON: nothing is lost,
nothing stays `running`."""

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from tzzr.blobs import BlobStore
from tzzr.canonical import sha256_hex
from tzzr.cells.base import CellContext, Payload
from tzzr.cells.catalog import Catalog
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Entry, Execution, Run, RunArtifact
from tzzr.errors import InvalidInput, TzzrError
from tzzr.flows import expr
from tzzr.flows.spec import FlowSpec, Step, payload_type, render
from tzzr.flows.store import FlowStore
from tzzr.instances import InstanceStores
from tzzr.ledger.log import Ledger
from tzzr.mason import Mason
from tzzr.runs.executor import Heartbeat, RunTimedOut, time_limit
from tzzr.runs.results import ResultKeeper
from tzzr.runs.service import params_hash
from tzzr.sentinel import tracing
from tzzr.sentinel.events import emit

log = logging.getLogger("tzzr.flows")
Dispatch = Callable[[str, float], None]

_CLAIM = (
    update(Execution)
    .where(Execution.id == bindparam("eid"), Execution.status == "queued")
    .values(
        status="running",
        attempt=Execution.attempt + 1,
        worker=bindparam("worker"),
        started_at=bindparam("now"),
        lease_until=bindparam("lease"),
    )
    .returning(Execution)
)
_PROGRESS = update(Execution).where(
    Execution.id == bindparam("eid"),
    Execution.status == "running",
    Execution.attempt == bindparam("at"),
)
# Built once: statements built per call cost more than the SQL they run.
_STEP_DONE = _PROGRESS.values(
    steps=bindparam("b_steps"), next_step=bindparam("b_next"), lease_until=bindparam("b_lease")
)
_CLOSE = _PROGRESS.values(
    status=bindparam("b_status"),
    steps=bindparam("b_steps"),
    next_step=bindparam("b_next"),
    decision=bindparam("b_decision"),
    outcome=bindparam("b_outcome"),
    error=bindparam("b_error"),
    finished_at=bindparam("b_finished"),
    lease_until=None,
)
_INSERT_RUN = insert(Run)
EMPTY_SHA = sha256_hex(b"")


class _Superseded(Exception):
    pass


class Runner:
    def __init__(
        self,
        engine: Engine,
        flows: FlowStore,
        catalog: Catalog,
        blobs: BlobStore,
        ledger: Ledger,
        mason: Mason,
        settings: Settings,
        dispatch: Dispatch,
    ) -> None:
        self._engine = engine
        self.flows = flows
        self._catalog = catalog
        self._ledger = ledger
        self._mason = mason
        self._settings = settings
        self.dispatch = dispatch
        self._store = InstanceStores(engine, blobs)
        self._results = ResultKeeper()
        self._input: tuple[str, bytes] = ("", b"")

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.run_lease_seconds)

    def advance(self, execution_id: str, worker: str) -> str:
        now = datetime.now(UTC)
        with write_transaction(self._engine, redoable=True) as conn:
            row = conn.execute(
                _CLAIM,
                {"eid": execution_id, "worker": worker, "now": now, "lease": self._lease(now)},
            ).first()
        if row is None:
            return "skipped"
        try:
            return self._advance(row)
        except _Superseded:
            return "discarded"

    def _scope(self, row: Any) -> tuple[dict[str, Any], list[tuple[str, str, str | None]]]:
        """The decision's names: `entry` (metadata, h_entrada, files) and each finished
        step's result; and the capture's files (sha256, payload type, media type)."""
        if row.h_entrada is not None:
            with self._engine.connect() as conn:
                entry = conn.execute(
                    select(Entry.contenedor).where(
                        Entry.h_instancia == row.h_instancia, Entry.h_entrada == row.h_entrada
                    )
                ).scalar_one()
            files = [
                (f["sha256"], payload_type(f["media_type"]), f["media_type"])
                for f in entry.get("files", [])
            ]
            scope: dict[str, Any] = {
                "entry": {
                    "h_entrada": row.h_entrada,
                    "metadata": entry.get("metadata", {}),
                    "files": entry.get("files", []),
                }
            }
        else:
            given = row.input or {}
            files = [(given["sha256"], given["type"], given.get("media_type"))]
            scope = {
                "entry": {"h_entrada": None, "metadata": {"lang": given.get("lang")}, "files": []}
            }
        for step in row.steps:
            if step.get("status") == "done":
                scope[step["id"]] = step.get("output", {})
        return scope, files

    def _advance(self, row: Any) -> str:
        spec = self.flows.spec(row.flow_id, row.flow_version)
        scope, files = self._scope(row)
        steps = [dict(s) for s in row.steps]
        interval = self._settings.run_lease_seconds / 3
        with Heartbeat(lambda: self.heartbeat(row.id, row.attempt), interval):
            for index in range(row.next_step, len(spec.steps)):
                step = spec.steps[index]
                try:
                    outcome, run = self._step(row, step, scope, files)
                except TzzrError as exc:  # CellFailed, a bad parameter: no retry
                    return self._fail_step(row, steps, index, exc.body()["error"])
                except RunTimedOut:
                    error = {"code": "timed_out", "message": f"step {step.id} took too long"}
                    return self._fail_step(row, steps, index, error)
                except Exception as exc:
                    log.warning("execution %s step %s: %r", row.id, step.id, exc)
                    return self._retry_or_fail(row, steps, index, f"{type(exc).__name__}: {exc}")
                steps[index] = outcome
                scope[step.id] = outcome["output"]
                if index + 1 < len(spec.steps):
                    self._commit(row, index, steps, run, None)
                else:  # the last step and the decision: one transaction
                    return self._commit(row, index, steps, run, self._decision(spec, scope))
        return self._commit(row, len(spec.steps) - 1, steps, None, self._decision(spec, scope))

    @staticmethod
    def _decision(spec: FlowSpec, scope: dict[str, Any]) -> dict[str, Any]:
        value = expr.evaluate(expr.parse(spec.decision), scope)
        if not (value is None or isinstance(value, bool | int | float | str)):
            value = str(value)
        return {
            "expression": spec.decision,
            "value": value,
            "outcome": "ok" if expr.truthy(value) else "incident",
            "reason": f"flow {spec.id}: the decision {spec.decision!r} was not met",
        }

    def _step(
        self,
        row: Any,
        step: Step,
        scope: dict[str, Any],
        files: list[tuple[str, str, str | None]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Run one step as the cell run `<execution>-<step>`; its outcome and the run's
        record (written by _commit with the execution's progress, in one transaction:
        so a run that finished is never run again, and none is recorded twice)."""
        run_id = f"{row.id}-{step.id}"
        store = self._store(row.h_instancia)
        cell = self._catalog.get(step.cell, step.version)
        takes_none = "none" in cell.accepts
        if (step.input or ("none" if takes_none else "entry")) == "none":
            sha, kind, media = EMPTY_SHA, "none", None
        else:
            wanted = [f for f in files if f[1] in cell.accepts] or files
            if not wanted:
                raise InvalidInput(f"step {step.id}: the capture has no file for {step.cell}")
            sha, kind, media = wanted[0]
        params = render(step.params, scope)
        lang = (render(step.lang, scope) if step.lang else None) or None
        check = getattr(cell, "check_params", None)
        if check is not None:
            check(params)
        started = time.perf_counter()
        if kind == "none":
            data = b""
        elif self._input[0] == sha:
            data = self._input[1]  # the steps of an execution often read the same file
        else:
            data = store.read_all(sha)
            self._input = (sha, data) if len(data) <= 8 * 1024 * 1024 else ("", b"")
        payload = Payload(kind, data, media)
        with (
            time_limit(self._settings.run_timeout_seconds),
            tracing.span(f"cell {cell.meta.id}", run_id=run_id, flow=row.flow_id),
        ):
            answer = cell.run(CellContext(run_id, lang, params), payload)
        latency = round((time.perf_counter() - started) * 1000, 3)
        kept = self._results.keep(store, answer)
        metrics: dict[str, Any] = {
            "latencyMs": latency,
            "engine": answer.engine,
            "model": answer.model,
            "device": answer.device,
            **answer.metrics,
        }
        run = {
            "id": run_id,
            "h_instancia": row.h_instancia,
            "cell_id": cell.meta.id,
            "cell_version": cell.meta.version,
            "queue": "flow",
            "status": "done",
            "input_sha": sha,
            "input_type": kind,
            "media_type": media,
            "lang": lang,
            "params": params,
            "params_hash": params_hash(params, lang, kind),
            "attempt": 1,
            "max_attempts": 1,
            "timeout_s": self._settings.run_timeout_seconds,
            "worker": row.worker,
            "result_sha": kept.sha256,
            "metrics": metrics,
            "artifacts": kept.artifacts,
        }
        outcome = {
            "id": step.id,
            "cell": step.cell,
            "status": "done",
            "runId": run_id,
            "output": kept.result,
            "ms": latency,
        }
        return outcome, run

    def _commit(
        self,
        row: Any,
        index: int,
        steps: list[dict[str, Any]],
        run: dict[str, Any] | None,
        decision: dict[str, Any] | None,
    ) -> str:
        """A finished step (its run, attestation leaf and the execution's progress) and,
        after the last one, the decision and where the entry goes: one transaction."""
        now = datetime.now(UTC)
        try:
            # redoable: a power loss may undo it (the step is then run again); a process
            # crash never does. The last step, with the decision, is written durably.
            with write_transaction(self._engine, redoable=decision is None) as conn:
                if run is not None:
                    artifacts = run.pop("artifacts")
                    run.update(created_at=now, started_at=now, finished_at=now)
                    run["leaf_index"] = self._ledger.append_in(
                        conn,
                        row.h_instancia,
                        "attestation",
                        run["id"],
                        run["result_sha"],
                        now,
                        {
                            "cell": run["cell_id"],
                            "version": run["cell_version"],
                            "input": run["input_sha"],
                            "params": run["params_hash"],
                        },
                    )
                    conn.execute(_INSERT_RUN, run)
                    if artifacts:
                        conn.execute(
                            insert(RunArtifact), [{"run_id": run["id"], **a} for a in artifacts]
                        )
                if decision is None:
                    changed = conn.execute(
                        _STEP_DONE,
                        {
                            "eid": row.id,
                            "at": row.attempt,
                            "b_steps": steps,
                            "b_next": index + 1,
                            "b_lease": self._lease(now),
                        },
                    ).rowcount
                    if not changed:
                        raise _Superseded
                    return "running"
                reason = decision.pop("reason")
                self._close(
                    conn, row, steps, "done", decision, decision["outcome"], None, reason, now
                )
        except _Superseded:
            return "discarded"
        return "done"

    def _close(
        self,
        conn: Connection,
        row: Any,
        steps: list[dict[str, Any]],
        status: str,
        decision: dict[str, Any] | None,
        outcome: str,
        error: dict[str, Any] | None,
        reason: str,
        now: datetime,
    ) -> None:
        changed = conn.execute(
            _CLOSE,
            {
                "eid": row.id,
                "at": row.attempt,
                "b_status": status,
                "b_steps": steps,
                "b_next": len(steps),
                "b_decision": decision,
                "b_outcome": outcome,
                "b_error": error,
                "b_finished": now,
            },
        ).rowcount
        if not changed:
            raise _Superseded
        emit(
            conn,
            "flow_decision",
            severity="info" if status == "done" else "error",
            h_instancia=row.h_instancia,
            subject=row.h_entrada or row.id,
            data={
                "execution": row.id,
                "flow": row.flow_id,
                "status": status,
                "outcome": outcome,
                "error": error,
            },
            ts=now,
        )
        if row.h_entrada is not None:
            if outcome == "ok":
                self._set_entry(conn, row, "consolidated")
            else:
                self._mason.open(conn, row.h_instancia, row.h_entrada, row.id, reason)
                self._set_entry(conn, row, "enriching")

    def _finish(
        self,
        row: Any,
        steps: list[dict[str, Any]],
        status: str,
        decision: dict[str, Any] | None,
        outcome: str,
        error: dict[str, Any] | None,
        reason: str,
    ) -> str:
        try:
            with write_transaction(self._engine) as conn:
                self._close(
                    conn, row, steps, status, decision, outcome, error, reason, datetime.now(UTC)
                )
        except _Superseded:
            return "discarded"
        return status

    @staticmethod
    def _set_entry(conn: Connection, row: Any, state: str) -> None:
        conn.execute(
            update(Entry)
            .where(Entry.h_instancia == row.h_instancia, Entry.h_entrada == row.h_entrada)
            .values(state=state)
        )

    def _fail_step(
        self, row: Any, steps: list[dict[str, Any]], index: int, error: dict[str, Any]
    ) -> str:
        steps[index] = {**steps[index], "status": "failed", "error": error}
        message = error.get("message", "failed")
        full = {**error, "step": steps[index]["id"]}
        return self._finish(
            row,
            steps,
            "failed",
            None,
            "incident",
            full,
            f"step {steps[index]['id']} failed: {message}",
        )

    def _retry_or_fail(
        self, row: Any, steps: list[dict[str, Any]], index: int, message: str
    ) -> str:
        if row.attempt >= self._settings.run_max_attempts:
            return self._fail_step(
                row,
                steps,
                index,
                {
                    "code": "error",
                    "message": f"failed after {row.attempt} attempts; last: {message}",
                },
            )
        delay = self._settings.run_retry_seconds * 2 ** (row.attempt - 1)
        with write_transaction(self._engine) as conn:
            changed = conn.execute(
                _PROGRESS.values(
                    status="queued",
                    worker=None,
                    error={"code": "error", "message": message, "attempt": row.attempt},
                    lease_until=datetime.now(UTC)
                    + timedelta(seconds=delay + 10 * self._settings.run_lease_seconds),
                ),
                {"eid": row.id, "at": row.attempt},
            ).rowcount
        if changed:
            self.dispatch(row.id, delay)
            return "queued"
        return "discarded"

    def heartbeat(self, execution_id: str, attempt: int) -> bool:
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            return bool(
                conn.execute(
                    _PROGRESS.values(lease_until=self._lease(now)),
                    {"eid": execution_id, "at": attempt},
                ).rowcount
            )

    def reap(self) -> list[str]:
        """Running executions whose worker died, and queued ones whose message was
        lost: back in the queue. The execution resumes from its last finished step."""
        now = datetime.now(UTC)
        with self._engine.connect() as conn:
            expired = conn.execute(
                select(Execution.id, Execution.status, Execution.attempt).where(
                    Execution.status.in_(("running", "queued")), Execution.lease_until < now
                )
            ).all()
        again = []
        for item in expired:
            with write_transaction(self._engine) as conn:
                changed = conn.execute(
                    update(Execution)
                    .where(
                        Execution.id == item.id,
                        Execution.status == item.status,
                        Execution.attempt == item.attempt,
                        Execution.lease_until < now,
                    )
                    .values(
                        status="queued",
                        worker=None,
                        lease_until=now + timedelta(seconds=10 * self._settings.run_lease_seconds),
                    )
                ).rowcount
            if changed:
                self.dispatch(item.id, 0)
                again.append(item.id)
        return again
