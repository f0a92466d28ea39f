"""Jobs: long work the server does for a caller (specializing a cell), in a background
thread, with progress in the database. A job never stays "running" after its server
stopped: the next start marks it failed."""

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.errors import NotFound, TzzrError
from tzzr.instances import InstanceInfo

log = logging.getLogger("tzzr.jobs")
Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], dict[str, Any]]


def job_json(row: Any) -> dict[str, Any]:
    return {
        "jobId": row.id,
        "kind": row.kind,
        "status": row.status,
        "request": row.request,
        "progress": row.progress,
        "result": row.result,
        "error": row.error,
        "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
        "finishedAt": row.finished_at.isoformat().replace("+00:00", "Z")
        if row.finished_at
        else None,
    }


class Jobs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pool: ThreadPoolExecutor | None = None

    def _update(self, job_id: str, **values: Any) -> None:
        with write_transaction(self._engine) as conn:
            conn.execute(update(Job).where(Job.id == job_id).values(**values))

    def start(self, instance: InstanceInfo, kind: str, request: dict[str, Any], work: Work) -> str:
        job_id = uuid.uuid4().hex
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(Job).values(
                    id=job_id,
                    h_instancia=instance.h_instancia,
                    kind=kind,
                    status="queued",
                    request=request,
                    progress={"done": 0, "total": None, "step": "queued"},
                    created_at=datetime.now(UTC),
                )
            )
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tzzr-job")
        self._pool.submit(self._run, job_id, work)
        return job_id

    def _run(self, job_id: str, work: Work) -> None:
        def progress(done: int, total: int, step: str) -> None:
            self._update(
                job_id, status="running", progress={"done": done, "total": total, "step": step}
            )

        try:
            self._update(job_id, status="running")
            result = work(progress)
        except TzzrError as exc:
            self._update(
                job_id, status="failed", error=exc.body()["error"], finished_at=datetime.now(UTC)
            )
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._update(
                job_id,
                status="failed",
                error={"code": "error", "message": f"{type(exc).__name__}: {exc}"},
                finished_at=datetime.now(UTC),
            )
        else:
            self._update(job_id, status="done", result=result, finished_at=datetime.now(UTC))

    def get(self, instance: InstanceInfo, job_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Job).where(Job.id == job_id, Job.h_instancia == instance.h_instancia)
            ).first()
        if row is None:
            raise NotFound(f"no job {job_id!r} in this instance")
        return job_json(row)

    def recover(self) -> int:
        """At start: jobs left queued or running by a stopped server failed."""
        with write_transaction(self._engine) as conn:
            return int(
                conn.execute(
                    update(Job)
                    .where(Job.status.in_(("queued", "running")))
                    .values(
                        status="failed",
                        finished_at=datetime.now(UTC),
                        error={
                            "code": "interrupted",
                            "message": "the server stopped during the job; start it again",
                        },
                    )
                ).rowcount
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
