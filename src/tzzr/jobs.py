"""Jobs: long work the server does for a caller (specializing a cell, THE FACTORY's
refinements), in one of its threads, with progress in the database, held under a lease
(tzzr.work) from the moment it is queued: the process's heartbeat renews it while the
server lives. A job whose server stopped is found by the reaper once its lease has run
out. A job of a *resumable* kind (registered with `resumable`: its work keeps what it
has done in the database, and reads it back) is queued again and resumed by the server
that reaped it, up to MAX_ATTEMPTS times; any other job is failed as interrupted (its
work lived in that server's memory). The jobs of a server still running, on this
machine or another, are left alone."""

import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.errors import NotFound, TzzrError
from tzzr.instances import InstanceInfo
from tzzr.states import JobStatus
from tzzr.times import rfc3339, rfc3339_or_none
from tzzr.work.heartbeat import Holding, heartbeat
from tzzr.work.leases import Leases

log = logging.getLogger("tzzr.jobs")
Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], dict[str, Any]]


@dataclass(frozen=True)
class Turn:
    """One attempt at a resumable job: its request, progress, and `held(conn)`, the
    guarded write to make in each transaction that records its work (False, and the
    lease renewed for nobody, when another attempt has the job now: write nothing)."""

    job_id: str
    attempt: int
    request: dict[str, Any]
    progress: Progress
    held: Callable[[Connection], bool]


Resume = Callable[[Turn], dict[str, Any]]

LEASE_SECONDS = 30.0  # renewed every third of it; a stopped server's jobs fail after it
MAX_ATTEMPTS = 3  # a resumable job's attempts (a server stopped under each one)
REAP_SECONDS = 10.0  # how often the scheduler looks for them
LEASES = Leases(Job.__table__, ("id",), started=None)  # type: ignore[arg-type]
INTERRUPTED = {
    "code": "interrupted",
    "message": "the server stopped during the job; start it again",
}


def job_json(row: Any) -> dict[str, Any]:
    return {
        "jobId": row.id,
        "kind": row.kind,
        "status": row.status,
        "request": row.request,
        "progress": row.progress,
        "result": row.result,
        "error": row.error,
        "createdAt": rfc3339(row.created_at),
        "finishedAt": rfc3339_or_none(row.finished_at),
    }


class Jobs:
    def __init__(
        self,
        engine: Engine,
        worker: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._engine = engine
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._lease_seconds = lease_seconds
        self._pool: ThreadPoolExecutor | None = None
        self._held: dict[str, Holding] = {}
        self._kinds: dict[str, Resume] = {}

    def _lease(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self._lease_seconds)

    def resumable(self, kind: str, work: Resume) -> None:
        """Jobs of `kind` are started without a work function (`start(..., work=None)`)
        and run as `work(turn)`, resumed from their request after a stopped server."""
        self._kinds[kind] = work

    def start(
        self, instance: InstanceInfo, kind: str, request: dict[str, Any], work: Work | None = None
    ) -> str:
        if work is None and kind not in self._kinds:
            raise ValueError(f"jobs of kind {kind!r} need a work function")
        job_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(Job).values(
                    id=job_id,
                    h_instancia=instance.h_instancia,
                    kind=kind,
                    status=JobStatus.QUEUED,
                    request=request,
                    progress={"done": 0, "total": None, "step": "queued"},
                    created_at=now,
                    attempt=0,
                    worker=self.worker,
                    lease_until=self._lease(now),
                )
            )
        self._submit(job_id, work)
        return job_id

    def _submit(self, job_id: str, work: Work | None) -> None:
        holding = heartbeat().hold(lambda: self._renew(job_id), self._lease_seconds / 3)
        self._held[job_id] = holding
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tzzr-job")
        self._pool.submit(self._run, job_id, work, holding)

    def _renew(self, job_id: str) -> bool:
        with write_transaction(self._engine) as conn:
            return LEASES.reserve(conn, (job_id,), self.worker, self._lease(datetime.now(UTC)))

    def _run(self, job_id: str, work: Work | None, holding: Holding) -> None:
        try:
            now = datetime.now(UTC)
            with write_transaction(self._engine) as conn:
                row = LEASES.claim(conn, (job_id,), self.worker, now, self._lease(now))
            if row is None:  # reaped meanwhile
                return
            self._work(job_id, row.attempt, work or self._resume(row))
        finally:
            holding.release()
            self._held.pop(job_id, None)

    def _resume(self, row: Any) -> Work:
        resume = self._kinds[row.kind]

        def held(conn: Connection) -> bool:
            lease = self._lease(datetime.now(UTC))
            return LEASES.write(conn, (row.id,), row.attempt, lease_until=lease)

        def work(progress: Progress) -> dict[str, Any]:
            return resume(Turn(row.id, row.attempt, row.request, progress, held))

        return work

    def _write(self, job_id: str, attempt: int, **values: Any) -> None:
        with write_transaction(self._engine) as conn:
            LEASES.write(conn, (job_id,), attempt, **values)

    def _work(self, job_id: str, attempt: int, work: Work) -> None:
        def progress(done: int, total: int, step: str) -> None:
            self._write(job_id, attempt, progress={"done": done, "total": total, "step": step})

        def end(status: JobStatus, **values: Any) -> None:
            self._write(
                job_id,
                attempt,
                status=status,
                finished_at=datetime.now(UTC),
                lease_until=None,
                **values,
            )

        try:
            result = work(progress)
        except TzzrError as exc:
            end(JobStatus.FAILED, error=exc.body()["error"])
        except Exception as exc:
            log.exception("job %s failed", job_id)
            end(
                JobStatus.FAILED, error={"code": "error", "message": f"{type(exc).__name__}: {exc}"}
            )
        else:
            end(JobStatus.DONE, result=result)

    def get(self, instance: InstanceInfo, job_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Job).where(Job.id == job_id, Job.h_instancia == instance.h_instancia)
            ).first()
        if row is None:
            raise NotFound(f"no job {job_id!r} in this instance")
        return job_json(row)

    def reap(self, now: datetime | None = None) -> int:
        """Jobs whose lease ran out (their server stopped): a resumable one queued again
        here and resumed (until MAX_ATTEMPTS), any other failed, as interrupted."""
        now = now or datetime.now(UTC)
        failed = {"status": JobStatus.FAILED, "finished_at": now, "lease_until": None}

        def decide(row: Any) -> dict[str, Any]:
            if row.kind in self._kinds and row.attempt < MAX_ATTEMPTS:
                return {
                    "status": JobStatus.QUEUED,
                    "worker": self.worker,
                    "lease_until": self._lease(now),
                }
            return {**failed, "error": INTERRUPTED}

        reaped = LEASES.reap(self._engine, now, decide, (JobStatus.QUEUED, JobStatus.RUNNING))
        for row, values in reaped:
            if values["status"] == JobStatus.QUEUED:
                log.info("job %s lost its server; resumed here", row.id)
                self._submit(row.id, None)
        return len(reaped)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for holding in list(self._held.values()):  # never started: reaped once they expire
            holding.release()
        self._held.clear()
