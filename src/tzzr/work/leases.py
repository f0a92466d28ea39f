"""Work held under a lease, written once for every table of durable work (runs,
executions, jobs: rows with `status`, `attempt`, `worker` and `lease_until`).

A worker claims a queued row (`running`, the next attempt, its name, a lease), renews
the lease while it works, and finishes the row *once*: every write of the holder is
guarded by the status and the attempt it claimed, so the answer of a worker whose lease
was lost (cancelled, or reaped and claimed again) changes nothing and is dropped. The
reaper gives back (or fails) rows whose lease ran out: their worker died."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, Update, and_, bindparam, select, update

from tzzr.db.engine import write_transaction
from tzzr.states import RunStatus

# The states every durable table shares (runs, executions and jobs spell them alike).
QUEUED, RUNNING = RunStatus.QUEUED, RunStatus.RUNNING
Key = tuple[Any, ...]
Decide = Callable[[Any], dict[str, Any] | None]


class Leases:
    """The lease statements of one table, built once (statements built per call cost
    more than the SQL they run); `key` names its primary-key columns."""

    def __init__(
        self, table: Table, key: Sequence[str], started: str | None = "started_at"
    ) -> None:
        c = table.c
        self.table = table
        self.key = tuple(key)
        self._mine = and_(*(c[k] == bindparam(f"w_{k}") for k in self.key))
        claimed: dict[str, Any] = {
            "status": RUNNING,
            "attempt": c.attempt + 1,
            "worker": bindparam("w_worker"),
            "lease_until": bindparam("w_lease"),
        }
        if started is not None:
            claimed[started] = bindparam("w_now")
        self._claim = (
            update(table).where(self._mine, c.status == QUEUED).values(claimed).returning(table)
        )
        self._claim_many = (
            update(table)
            .where(c[self.key[0]].in_(bindparam("w_keys", expanding=True)), c.status == QUEUED)
            .values(claimed)
            .returning(table)
            if len(self.key) == 1
            else None
        )
        self.held: Update = update(table).where(
            self._mine, c.status == RUNNING, c.attempt == bindparam("w_attempt")
        )
        """The guarded write of a holder: derive its own statements from it (`.values`)."""
        self._renew = self.held.values(lease_until=bindparam("w_lease"))
        self._expired = select(table).where(
            c.status.in_(bindparam("w_statuses", expanding=True)),
            c.lease_until < bindparam("w_now"),
        )
        self._reaped = update(table).where(
            self._mine,
            c.status == bindparam("w_status"),
            c.attempt == bindparam("w_attempt"),
            c.lease_until < bindparam("w_now"),
        )
        self._reserve = (
            update(table)
            .where(self._mine, c.status.in_((QUEUED, RUNNING)), c.worker == bindparam("w_worker"))
            .values(lease_until=bindparam("w_lease"))
        )
        self._cancel = update(table).where(self._mine, c.status.in_((QUEUED, RUNNING)))
        self._built: dict[tuple[str, frozenset[str]], Update] = {}

    def key_of(self, row: Any) -> Key:
        return tuple(getattr(row, k) for k in self.key)

    def params(self, key: Key, attempt: int | None = None, **more: Any) -> dict[str, Any]:
        """The bound values of a statement of `held` (or one derived from it)."""
        params = {f"w_{k}": v for k, v in zip(self.key, key, strict=True)}
        if attempt is not None:
            params["w_attempt"] = attempt
        params.update(more)
        return params

    def _setting(self, base: str, values: Mapping[str, Any]) -> tuple[Update, dict[str, Any]]:
        """`base` with SET `values`, built once per set of column names."""
        names = frozenset(values)
        statement = self._built.get((base, names))
        if statement is None:
            start = {"held": self.held, "reaped": self._reaped, "cancel": self._cancel}[base]
            statement = start.values({n: bindparam(f"v_{n}") for n in names})
            self._built[(base, names)] = statement
        return statement, {f"v_{n}": v for n, v in values.items()}

    # -- the holder ---------------------------------------------------------------------
    def claim(self, conn: Connection, key: Key, worker: str, now: datetime, lease: datetime) -> Any:
        """The row, now `running` under this worker's lease; None when it is not queued
        (cancelled, finished, or another worker has it)."""
        params = self.params(key, w_worker=worker, w_now=now, w_lease=lease)
        return conn.execute(self._claim, params).first()

    def claim_many(
        self, conn: Connection, keys: Iterable[Any], worker: str, now: datetime, lease: datetime
    ) -> list[Any]:
        """Those of `keys` (one-column keys) that were queued, now this worker's."""
        if self._claim_many is None:
            raise TypeError(f"{self.table.name} has a key of several columns: claim one by one")
        params = {"w_keys": list(keys), "w_worker": worker, "w_now": now, "w_lease": lease}
        return list(conn.execute(self._claim_many, params).all())

    def renew(self, conn: Connection, key: Key, attempt: int, lease: datetime) -> bool:
        """False when the lease is no longer this holder's."""
        return bool(conn.execute(self._renew, self.params(key, attempt, w_lease=lease)).rowcount)

    def write(self, conn: Connection, key: Key, attempt: int, **values: Any) -> bool:
        """The holder's write (its progress, or its outcome, recorded once): False, and
        nothing written, when the row is no longer running under this attempt (the
        answer of a superseded worker is dropped)."""
        statement, bound = self._setting("held", values)
        return bool(conn.execute(statement, {**self.params(key, attempt), **bound}).rowcount)

    def reserve(self, conn: Connection, key: Key, worker: str, lease: datetime) -> bool:
        """Renew the lease of a row `worker` has queued for itself (a server's job waits
        for one of its threads) or runs; False once it ended or another has it."""
        params = self.params(key, w_worker=worker, w_lease=lease)
        return bool(conn.execute(self._reserve, params).rowcount)

    # -- anyone -------------------------------------------------------------------------
    def cancel(self, conn: Connection, key: Key, **values: Any) -> bool:
        """A queued or running row cancelled (`values`: its status and why); a running
        holder's answer is then dropped. False when it had ended."""
        statement, bound = self._setting("cancel", values)
        return bool(conn.execute(statement, {**self.params(key), **bound}).rowcount)

    def expired(
        self, conn: Connection, now: datetime, statuses: Sequence[str] = (RUNNING,)
    ) -> list[Any]:
        return list(conn.execute(self._expired, {"w_statuses": list(statuses), "w_now": now}).all())

    def reap(
        self,
        engine: Engine,
        now: datetime,
        decide: Decide,
        statuses: Sequence[str] = (RUNNING,),
    ) -> list[tuple[Any, dict[str, Any]]]:
        """The rows in `statuses` whose lease ran out before `now`: each one set to what
        `decide(row)` answers (queued again, or failed; None leaves it), in its own
        transaction and only if nobody changed it meanwhile. The rows changed, with
        their values."""
        with engine.connect() as conn:
            expired = self.expired(conn, now, statuses)
        changed = []
        for row in expired:
            values = decide(row)
            if values is None:
                continue
            statement, bound = self._setting("reaped", values)
            params = {
                **self.params(self.key_of(row), row.attempt, w_status=row.status, w_now=now),
                **bound,
            }
            with write_transaction(engine) as conn:
                if conn.execute(statement, params).rowcount:
                    changed.append((row, values))
        return changed
