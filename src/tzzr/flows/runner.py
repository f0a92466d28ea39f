"""A worker's side of ALFRED's executions. The steps run in order, each as a cell run
recorded with a deterministic id (`<execution>-<step>`) in the same transaction as the
execution's progress: after a kill -9 the execution resumes from its last recorded step
and no recorded run is repeated. Then the decision sends the entry to FELDMAN (OK:
`consolidated`) or to MASON (incident: `enriching`, with a deadline). A failed step
fails the execution with its error and sends the entry to MASON: nothing is lost,
nothing stays `running`.

Group commit: a worker takes the executions waiting in the queue as a batch (as many as
it can run in about BATCH_SECONDS, learned from the last batches: one at a time for slow
flows) and runs them in rounds, one step of each per round. The finished steps of a
round are written in one transaction, and the executions that ended in one durable
commit, so that fast flows pay for a transaction per round, not per step. An
execution's next step never starts before its previous one is written; a step of a cell
that is not known to be fast (its runs here took under FAST_SECONDS) is written at
once, as are steps waiting longer than GROUP_SECONDS. A batch that runs past
HOLD_SECONDS gives all but one of its executions back to the queue, for any worker.
(The pacing: flows/batch.py; one step as a cell run: flows/steps.py.)"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, update

from tzzr.blobs import BlobStore
from tzzr.cells.catalog import Catalog
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Entry, Execution, Run, RunArtifact
from tzzr.errors import TzzrError
from tzzr.feldman.log import Ledger
from tzzr.flows import expr
from tzzr.flows.batch import GROUP_SECONDS, HOLD_SECONDS, Speed
from tzzr.flows.spec import FlowSpec, Step
from tzzr.flows.steps import Inputs, Steps
from tzzr.flows.store import FlowStore
from tzzr.mason import Mason
from tzzr.runs.results import attestation
from tzzr.search import index as search_index
from tzzr.sentinel.events import emit
from tzzr.states import EntryState, ExecutionStatus, StepStatus
from tzzr.work.heartbeat import heartbeat
from tzzr.work.leases import Leases
from tzzr.work.retry import backoff
from tzzr.work.timelimit import TimedOut

log = logging.getLogger("tzzr.flows")
Dispatch = Callable[[str, float], None]

LEASES = Leases(Execution.__table__, ("id",))  # type: ignore[arg-type]
# Built once: statements built per call cost more than the SQL they run.
_PROGRESS = LEASES.held  # guarded by the attempt claimed: a lost lease writes nothing
_STEP_DONE = _PROGRESS.values(
    steps=bindparam("b_steps"), next_step=bindparam("b_next"), lease_until=bindparam("b_lease")
)
_RELEASE = _PROGRESS.values(
    status=ExecutionStatus.QUEUED,
    worker=None,
    attempt=Execution.attempt - 1,
    steps=bindparam("b_steps"),
    next_step=bindparam("b_next"),
    lease_until=bindparam("b_lease"),
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
_INSERT_ARTIFACT = insert(RunArtifact)


@dataclass
class _Live:
    """An execution a worker holds: where it is and what its steps gave so far."""

    row: Any
    spec: FlowSpec
    inputs: Inputs
    steps: list[dict[str, Any]]
    index: int
    unwritten: bool = False  # a finished step waits in the group
    ended: bool = False
    status: str = ExecutionStatus.RUNNING  # or a batch outcome: released, discarded


@dataclass
class _Write:
    """What one execution adds to the next transaction: a finished step (`run`), and
    for an execution that ends, how (`close`), or a retry later (`retry`)."""

    live: _Live
    steps: list[dict[str, Any]]
    next_step: int
    run: dict[str, Any] | None = None
    close: dict[str, Any] | None = None
    retry: tuple[dict[str, Any], float] | None = None
    release: bool = False  # back to the queue, not attempted (the batch ran long)


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
        self._steps = Steps(engine, catalog, blobs, settings)
        self.speed = Speed()

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._settings.run_lease_seconds)

    def batch_size(self) -> int:
        """How many queued executions to take at once (1 until they prove fast)."""
        return self.speed.batch()

    def advance(self, execution_id: str, worker: str) -> str:
        return self.advance_many([execution_id], worker)[execution_id]

    def advance_many(self, execution_ids: list[str], worker: str) -> dict[str, str]:
        """Run these executions to their end (or a retry later); each one's status:
        done, failed, queued (a retry), released (given back to the queue unfinished:
        the batch ran long), skipped (not queued: another worker has it, or it ended)
        or discarded (its lease was lost to another worker meanwhile)."""
        started = time.perf_counter()
        now = datetime.now(UTC)
        with write_transaction(self._engine, redoable=True) as conn:
            rows = LEASES.claim_many(conn, execution_ids, worker, now, self._lease(now))
        outcome = dict.fromkeys(execution_ids, "skipped")
        if not rows:
            return outcome
        held: list[_Live] = []
        writes: list[_Write] = []
        for row in rows:
            try:
                held.append(self._hold(row))
            except Exception as exc:  # its flow or input is gone: fail it, keep nothing
                log.warning("execution %s cannot start: %r", row.id, exc)
                spec = FlowSpec.model_construct(id=row.flow_id)
                live = _Live(row, spec, Inputs({}, []), list(row.steps), 0)
                error = {"code": "error", "message": f"{type(exc).__name__}: {exc}"}
                writes.append(self._failed(live, error, f"the execution failed: {exc}"))
        self._write(writes)
        self._steps.prefetch([(live.row.h_instancia, live.inputs) for live in held])
        with heartbeat().hold(lambda: self._renew(held), self._settings.run_lease_seconds / 3):
            self._rounds(held, started)
        for live in held + [w.live for w in writes]:
            outcome[live.row.id] = live.status
        ran = sum(1 for live in held if live.status != "released")
        self.speed.batch_took(ran, time.perf_counter() - started)
        return outcome

    def _hold(self, row: Any) -> _Live:
        spec = self.flows.spec(row.h_instancia, row.flow_id, row.flow_version)
        inputs = self._steps.inputs(row)
        return _Live(row, spec, inputs, [dict(s) for s in row.steps], row.next_step)

    def _rounds(self, held: list[_Live], started: float) -> None:
        """One step of each execution a round, until all have ended. A batch that
        runs past HOLD_SECONDS (its flows turned out slow) keeps the execution at work
        and gives the others back to the queue, for any worker to take."""
        group: list[_Write] = []
        since = 0.0
        while live_ones := [h for h in held if not h.ended]:
            for live in live_ones:
                if live.ended:  # its lease was lost, or it was given back
                    continue
                if time.perf_counter() - started > HOLD_SECONDS and (
                    others := [h for h in live_ones if h is not live and not h.ended]
                ):
                    group.extend(self._give_back(others))
                    self._write(group)
                    group = []
                if live.index >= len(live.spec.steps):  # nothing left: decide
                    group.append(self._decided(live, None))
                    continue
                step = live.spec.steps[live.index]
                fast = self.speed.fast(step)
                if group and (
                    live.unwritten or not fast or time.perf_counter() - since > GROUP_SECONDS
                ):
                    self._write(group)
                    group = []
                if live.ended:  # its lease was lost meanwhile
                    continue
                if not group:
                    since = time.perf_counter()
                group.append(self._attempt(live, step))
                if not fast:
                    self._write(group)
                    group = []
        self._write(group)

    @staticmethod
    def _give_back(others: Iterable[_Live]) -> list[_Write]:
        given = []
        for other in others:
            if not other.ended:
                other.ended = True
                given.append(_Write(other, list(other.steps), other.index, release=True))
        return given

    def _attempt(self, live: _Live, step: Step) -> _Write:
        """Run `step` of `live`: what to write."""
        index = live.index
        try:
            started = time.perf_counter()
            done, run = self._steps.run(live.row, step, live.inputs)
            self.speed.cell(step, time.perf_counter() - started)
        except TzzrError as exc:  # CellFailed, a bad parameter: no retry
            return self._fail_step(live, index, exc.body()["error"])
        except TimedOut:
            error = {"code": "timed_out", "message": f"step {step.id} took too long"}
            return self._fail_step(live, index, error)
        except Exception as exc:
            log.warning("execution %s step %s: %r", live.row.id, step.id, exc)
            return self._retry_or_fail(live, index, f"{type(exc).__name__}: {exc}")
        live.steps[index] = done
        live.inputs.scope[step.id] = done["output"]
        live.index = index + 1
        if live.index == len(live.spec.steps):  # the last step and the decision: one write
            return self._decided(live, run)
        live.unwritten = True
        return _Write(live, [dict(s) for s in live.steps], live.index, run=run)

    def _decided(self, live: _Live, run: dict[str, Any] | None) -> _Write:
        spec = live.spec
        value = expr.evaluate(expr.parse(spec.decision), live.inputs.scope)
        if not (value is None or isinstance(value, bool | int | float | str)):
            value = str(value)
        decision = {
            "expression": spec.decision,
            "value": value,
            "outcome": "ok" if expr.truthy(value) else "incident",
        }
        live.ended = True
        return _Write(
            live,
            live.steps,
            len(live.steps),
            run=run,
            close={
                "status": ExecutionStatus.DONE,
                "decision": decision,
                "outcome": decision["outcome"],
                "error": None,
                "reason": f"flow {spec.id}: the decision {spec.decision!r} was not met",
            },
        )

    @staticmethod
    def _failed(live: _Live, error: dict[str, Any], reason: str) -> _Write:
        live.ended = True
        return _Write(
            live,
            live.steps,
            len(live.steps),
            close={
                "status": ExecutionStatus.FAILED,
                "decision": None,
                "outcome": "incident",
                "error": error,
                "reason": reason,
            },
        )

    def _fail_step(self, live: _Live, index: int, error: dict[str, Any]) -> _Write:
        steps = live.steps
        steps[index] = {**steps[index], "status": StepStatus.FAILED, "error": error}
        message = error.get("message", "failed")
        full = {**error, "step": steps[index]["id"]}
        return self._failed(live, full, f"step {steps[index]['id']} failed: {message}")

    def _retry_or_fail(self, live: _Live, index: int, message: str) -> _Write:
        attempt = live.row.attempt
        if attempt >= self._settings.run_max_attempts:
            last = f"failed after {attempt} attempts; last: {message}"
            return self._fail_step(live, index, {"code": "error", "message": last})
        delay = backoff(self._settings.run_retry_seconds, attempt)
        live.ended = True
        error = {"code": "error", "message": message, "attempt": attempt}
        return _Write(live, live.steps, index, retry=(error, delay))

    @staticmethod
    def _set_entry(conn: Connection, row: Any, state: EntryState) -> None:
        conn.execute(
            update(Entry)
            .where(Entry.h_instancia == row.h_instancia, Entry.h_entrada == row.h_entrada)
            .values(state=state)
        )

    def _write(self, group: list[_Write]) -> None:
        """One transaction: each execution's progress (guarded by its attempt: one
        whose lease was lost writes nothing), the runs of its finished steps with their
        attestation leaves, and for those that end, the decision and where the entry
        goes. Durable when something ends; redoable when only steps finished."""
        if not group:
            return
        now = datetime.now(UTC)
        ending = any(w.close is not None or w.retry is not None or w.release for w in group)
        with write_transaction(self._engine, redoable=not ending) as conn:
            # in the order of their ids, as the heartbeat renews them: on PostgreSQL
            # two transactions taking the same rows' locks in another order deadlock
            ordered = sorted(group, key=lambda w: str(w.live.row.id))
            kept = [w for w in ordered if self._progress(conn, w, now)]
            runs = [w.run for w in kept if w.run is not None]
            by_instance: dict[str, list[dict[str, Any]]] = {}
            for run in runs:
                run.update(created_at=now, started_at=now, finished_at=now)
                by_instance.setdefault(run["h_instancia"], []).append(run)
            for h_instancia, mine in by_instance.items():
                first = self._ledger.append_all_in(
                    conn,
                    h_instancia,
                    [
                        attestation(
                            run["id"],
                            run["result_sha"],
                            now,
                            run["cell_id"],
                            run["cell_version"],
                            run["input_sha"],
                            run["params_hash"],
                        )
                        for run in mine
                    ],
                )
                for offset, run in enumerate(mine):
                    run["leaf_index"] = first + offset
            if runs:
                artifacts = [
                    {"h_instancia": r["h_instancia"], "run_id": r["id"], **a}
                    for r in runs
                    for a in r.pop("artifacts")
                ]
                conn.execute(_INSERT_RUN, runs)
                if artifacts:
                    conn.execute(_INSERT_ARTIFACT, artifacts)
        for write in group:
            write.live.unwritten = False
            again = write.retry is not None or write.release
            if again and write.live.status in (ExecutionStatus.QUEUED, "released"):
                self.dispatch(write.live.row.id, write.retry[1] if write.retry else 0)

    def _progress(self, conn: Connection, write: _Write, now: datetime) -> bool:
        """The execution's own row; False (and the execution let go) when another
        worker holds it now."""
        live, row = write.live, write.live.row
        params = LEASES.params((row.id,), row.attempt)
        if write.release:
            statement = _RELEASE
            lease = now + timedelta(seconds=10 * self._settings.run_lease_seconds)
            params.update(b_steps=write.steps, b_next=write.next_step, b_lease=lease)
            status = "released"
        elif write.retry is not None:
            error, delay = write.retry
            lease = now + timedelta(seconds=delay + 10 * self._settings.run_lease_seconds)
            statement = _PROGRESS.values(
                status=ExecutionStatus.QUEUED, worker=None, error=error, lease_until=lease
            )
            status = ExecutionStatus.QUEUED
        elif write.close is not None:
            close = write.close
            statement = _CLOSE
            params.update(
                b_status=close["status"],
                b_steps=write.steps,
                b_next=write.next_step,
                b_decision=close["decision"],
                b_outcome=close["outcome"],
                b_error=close["error"],
                b_finished=now,
            )
            status = close["status"]
        else:
            statement = _STEP_DONE
            params.update(b_steps=write.steps, b_next=write.next_step, b_lease=self._lease(now))
            status = ExecutionStatus.RUNNING
        if not conn.execute(statement, params).rowcount:
            live.ended, live.status = True, "discarded"
            return False
        live.status = status
        if write.close is not None:
            self._closed(conn, row, write.close, now)
        return True

    def _closed(self, conn: Connection, row: Any, close: dict[str, Any], now: datetime) -> None:
        """An execution ended: its event, and its entry to FELDMAN or to MASON."""
        emit(
            conn,
            "flow_decision",
            severity="info" if close["status"] == ExecutionStatus.DONE else "error",
            h_instancia=row.h_instancia,
            subject=row.h_entrada or row.id,
            data={
                "execution": row.id,
                "flow": row.flow_id,
                "status": close["status"],
                "outcome": close["outcome"],
                "error": close["error"],
            },
            ts=now,
        )
        if row.h_entrada is not None:
            if close["outcome"] == "ok":
                self._set_entry(conn, row, EntryState.CONSOLIDATED)
            else:
                self._mason.open(conn, row.h_instancia, row.h_entrada, row.id, close["reason"])
                self._set_entry(conn, row, EntryState.ENRICHING)
            # what the cells read is searchable as it is stored, not before
            search_index.refresh(conn, row.h_instancia, row.h_entrada)

    def _renew(self, held: list[_Live]) -> bool:
        """The heartbeat: renew the leases of the executions still at work; one whose
        lease was lost is let go. False when none is left."""
        working = sorted((h for h in held if not h.ended), key=lambda h: str(h.row.id))
        if not working:
            return False
        lease = self._lease(datetime.now(UTC))
        with write_transaction(self._engine, redoable=True) as conn:
            for live in working:
                if not LEASES.renew(conn, (live.row.id,), live.row.attempt, lease):
                    live.ended, live.status = True, "discarded"
        return True

    def reap(self, now: datetime | None = None) -> list[str]:
        """Running executions whose worker died, and queued ones whose message was
        lost: back in the queue. The execution resumes from its last finished step."""
        now = now or datetime.now(UTC)
        lease = now + timedelta(seconds=10 * self._settings.run_lease_seconds)
        again = []
        for row, _ in LEASES.reap(
            self._engine,
            now,
            lambda _row: {"status": ExecutionStatus.QUEUED, "worker": None, "lease_until": lease},
            statuses=(ExecutionStatus.RUNNING, ExecutionStatus.QUEUED),
        ):
            self.dispatch(row.id, 0)
            again.append(row.id)
        return again
