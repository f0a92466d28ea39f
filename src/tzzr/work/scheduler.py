"""The periodic scheduler: one thread per process runs named jobs (MASON's sweep,
SENTINEL's alerts, automatic sealing, reaping, promoting due retries), each one once per
deployment per period. Before a job runs, its scheduler claims the job's row of
`work_leases` until the period ends, with a guarded UPDATE (or the first INSERT): with
two servers on one database, one wins each period and the other skips it. A job that
fails is logged and runs again next period; the loop goes on."""

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from tzzr.db.engine import write_transaction
from tzzr.db.models import WorkLease

log = logging.getLogger("tzzr.work")
Clock = Callable[[], datetime]
LONGEST_WAIT = 1.0  # the loop looks again at least this often (a stop, a changed clock)

_TURN = select(WorkLease.lease_until).where(WorkLease.name == bindparam("w_name"))
_TAKE = (
    update(WorkLease)
    .where(WorkLease.name == bindparam("w_name"), WorkLease.lease_until <= bindparam("w_now"))
    .values(holder=bindparam("w_holder"), lease_until=bindparam("w_until"))
)
_FIRST = insert(WorkLease)
_GIVE_BACK = (
    update(WorkLease)
    .where(WorkLease.holder == bindparam("w_holder"), WorkLease.lease_until > bindparam("w_now"))
    .values(lease_until=bindparam("w_now"))
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Periodic:
    name: str
    every: float  # seconds: the period, and how long a turn is held
    run: Callable[[], object]
    at_start: bool = True  # the first run at once (catching up), else after a period


class Scheduler:
    def __init__(
        self,
        engine: Engine,
        jobs: Sequence[Periodic],
        holder: str,
        clock: Clock = utc_now,
    ) -> None:
        self._engine = engine
        self.jobs = list(jobs)
        self.holder = f"{holder}/{uuid.uuid4().hex[:8]}"  # this scheduler's own turns
        self._clock = clock
        start = clock()
        self._next = {
            j.name: start if j.at_start else start + timedelta(seconds=j.every) for j in self.jobs
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # held while the jobs of a tick run: see paused()
        self._busy = threading.Lock()

    def claim(self, name: str, every: float, now: datetime) -> bool:
        """This period's turn of job `name`, if no scheduler holds it."""
        until = now + timedelta(seconds=every)
        with self._engine.connect() as conn:  # a read first: the loser writes nothing
            held = conn.execute(_TURN, {"w_name": name}).scalar()
        if held is not None:
            if held > now:
                return False
            params = {"w_name": name, "w_now": now, "w_holder": self.holder, "w_until": until}
            with write_transaction(self._engine) as conn:
                return bool(conn.execute(_TAKE, params).rowcount)
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(_FIRST, {"name": name, "holder": self.holder, "lease_until": until})
        except IntegrityError:  # another scheduler's first turn came first
            return False
        return True

    def tick(self) -> float:
        """Run the jobs due here whose turn this scheduler wins; the seconds until the
        next one is due."""
        now = self._clock()
        for job in self.jobs:
            if self._next[job.name] > now:
                continue
            self._next[job.name] = now + timedelta(seconds=job.every)
            try:
                if self.claim(job.name, job.every, now):
                    job.run()
            except Exception:
                log.exception("periodic job %s failed; again in %g s", job.name, job.every)
        if not self._next:
            return LONGEST_WAIT
        return max(0.0, (min(self._next.values()) - self._clock()).total_seconds())

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._busy:
                wait = self.tick()
            self._stop.wait(min(wait, LONGEST_WAIT))

    def paused(self) -> threading.Lock:
        """Held (`with scheduler.paused(): ...`), no job runs: fork a process then. A
        child forked while a job held a lock (the database writer's, a pool's) would
        inherit it held, and wait for it forever."""
        return self._busy

    def start(self) -> "Scheduler":
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tzzr-scheduler")
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop and give back this period's turns: a server restarted at once
        runs its jobs at start (a stopped one's turns run out within a period)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(_GIVE_BACK, {"w_holder": self.holder, "w_now": self._clock()})
        except Exception:
            log.exception("giving back the periodic jobs' turns failed")
