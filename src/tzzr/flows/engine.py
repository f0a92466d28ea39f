"""ALFRED's executions: starting and reading them. A capture that matches a flow with
steps becomes an execution in the same transaction as its entry (state `processing`),
queued for a worker; `POST /execute` starts one by hand. Workers run them
(flows/runner.py)."""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from tzzr.blobs import BlobStore
from tzzr.cells.catalog import Catalog
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Entry, Execution
from tzzr.db.rows import instance_row
from tzzr.errors import InvalidInput
from tzzr.feldman.log import Ledger
from tzzr.flows.runner import Runner
from tzzr.flows.spec import FlowSpec
from tzzr.flows.store import FlowStore
from tzzr.instances import InstanceInfo
from tzzr.mason import Mason
from tzzr.queue import RunQueue
from tzzr.runs.service import RunInput, store_input
from tzzr.states import EntryState, ExecutionStatus, StepStatus, values
from tzzr.times import rfc3339_or_none
from tzzr.validation import one_of

PREFIX = "x:"  # queue messages for executions: "x:<id>" (runs are bare ids)
STATUSES = values(ExecutionStatus)
Clock = Callable[[], datetime]


def execution_json(row: Any) -> dict[str, Any]:
    return {
        "executionId": row.id,
        "flow": row.flow_id,
        "flowVersion": row.flow_version,
        "h_entrada": row.h_entrada,
        "input": row.input,
        "status": row.status,
        "steps": row.steps,
        "decision": row.decision,
        "outcome": row.outcome,
        "error": row.error,
        "attempt": row.attempt,
        "createdAt": rfc3339_or_none(row.created_at),
        "startedAt": rfc3339_or_none(row.started_at),
        "finishedAt": rfc3339_or_none(row.finished_at),
    }


class Alfred:
    def __init__(
        self,
        engine: Engine,
        flows: FlowStore,
        catalog: Catalog,
        queue: RunQueue,
        blobs: BlobStore,
        ledger: Ledger,
        mason: Mason,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self.flows = flows
        self._queue = queue
        self._settings = settings
        self._clock = clock
        self.runner = Runner(engine, flows, catalog, blobs, ledger, mason, settings, self.dispatch)

    # -- starting ---------------------------------------------------------------------
    def route(
        self,
        conn: Connection,
        instance: InstanceInfo,
        h_entrada: str,
        metadata: dict[str, Any],
        files: list[dict[str, Any]],
        now: datetime,
    ) -> tuple[EntryState, str | None]:
        """Inside the ingest transaction: the entry's state and its execution, if a
        flow with steps matches (a flow without steps decides OK at once)."""
        found = self.flows.match(
            instance.h_instancia, instance.name, [f["media_type"] for f in files], metadata
        )
        if found is None or not found[1].steps:
            return EntryState.RECEIVED, None
        version, spec = found
        execution_id = self._insert(conn, instance, spec, version, h_entrada, None, now)
        return EntryState.PROCESSING, execution_id

    def _insert(
        self,
        conn: Connection,
        instance: InstanceInfo,
        spec: FlowSpec,
        version: int,
        h_entrada: str | None,
        given: dict[str, Any] | None,
        now: datetime,
    ) -> str:
        execution_id = uuid.uuid4().hex
        conn.execute(
            insert(Execution).values(
                id=execution_id,
                h_instancia=instance.h_instancia,
                flow_id=spec.id,
                flow_version=version,
                h_entrada=h_entrada,
                input=given,
                status=ExecutionStatus.QUEUED,
                next_step=0,
                steps=[
                    {"id": s.id, "cell": s.cell, "status": StepStatus.PENDING} for s in spec.steps
                ],
                attempt=0,
                # a queued execution whose message was lost is queued again after this
                lease_until=now + timedelta(seconds=10 * self._settings.run_lease_seconds),
                created_at=now,
            )
        )
        return execution_id

    def dispatch(self, execution_id: str, delay: float = 0) -> None:
        self._queue.enqueue("cpu", PREFIX + execution_id, delay=delay)

    def start(
        self,
        instance: InstanceInfo,
        flow_id: str,
        h_entrada: str | None = None,
        given: RunInput | None = None,
        store: BlobStore | None = None,
    ) -> str:
        """`POST /execute`: a flow on an entry of the instance, or on an input."""
        row = self.flows.get(instance.h_instancia, flow_id)
        spec = self.flows.spec(instance.h_instancia, flow_id, row.version)  # cached per version
        if (h_entrada is None) == (given is None):
            raise InvalidInput("send either h_entrada or input", field="h_entrada")
        stored_input = None
        now = self._clock()
        if h_entrada is not None:
            self._entry(instance, h_entrada)  # 404 for another instance's entry
        else:
            assert given is not None and store is not None
            sha, size = store_input(store, given, self._settings.max_json_body_bytes)
            stored_input = {
                "sha256": sha,
                "size": size,  # each step checks it against its cell's limit before reading
                "type": given.type,
                "media_type": given.media_type,
                "lang": given.lang,
            }
        with write_transaction(self._engine) as conn:
            execution_id = self._insert(
                conn, instance, spec, row.version, h_entrada, stored_input, now
            )
            if h_entrada is not None and spec.steps:
                conn.execute(
                    update(Entry)
                    .where(Entry.h_instancia == instance.h_instancia, Entry.h_entrada == h_entrada)
                    .values(state=EntryState.PROCESSING)
                )
        self.dispatch(execution_id)
        return execution_id

    def _entry(self, instance: InstanceInfo, h_entrada: str) -> Any:
        missing = f"no entry {h_entrada} in this instance"
        with self._engine.connect() as conn:
            return instance_row(conn, Entry, instance.h_instancia, missing, h_entrada=h_entrada)

    # -- running: a worker's side (flows/runner.py) -------------------------------------
    def advance(self, execution_id: str, worker: str) -> str:
        return self.runner.advance(execution_id, worker)

    def reap(self) -> list[str]:
        return self.runner.reap()

    # -- reading ------------------------------------------------------------------------
    def get(self, instance: InstanceInfo, execution_id: str) -> Any:
        missing = f"no execution {execution_id!r} in this instance"
        with self._engine.connect() as conn:
            return instance_row(conn, Execution, instance.h_instancia, missing, id=execution_id)

    def list(
        self,
        instance: InstanceInfo,
        flow: str | None = None,
        status: str | None = None,
        h_entrada: str | None = None,
        limit: int = 50,
    ) -> list[Any]:
        query = select(Execution).where(Execution.h_instancia == instance.h_instancia)
        if flow is not None:
            query = query.where(Execution.flow_id == flow)
        if status is not None:
            query = query.where(Execution.status == one_of(status, STATUSES, "status"))
        if h_entrada is not None:
            query = query.where(Execution.h_entrada == h_entrada)
        with self._engine.connect() as conn:
            return list(
                conn.execute(query.order_by(Execution.created_at.desc()).limit(limit)).all()
            )
