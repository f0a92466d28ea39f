"""One engine factory for SQLite and PostgreSQL, and migrations to head."""

import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from tzzr.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0002"  # the newest revision in migrations/versions (a test keeps this true)
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_WRITERS: "weakref.WeakKeyDictionary[Engine, GroupWriter]" = weakref.WeakKeyDictionary()
T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; FULL makes every acknowledged
    # commit durable across power loss, not only process crashes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            pool_size=8,
            max_overflow=56,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINT (which group commit
        # uses): let SQLAlchemy emit BEGIN itself, as its SQLite docs recommend.
        event.listen(engine, "connect", _driver_autocommit)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        _WRITE_LOCKS[engine] = threading.Lock()
        _WRITERS[engine] = GroupWriter(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", ""):
            raise ConfigError(
                f"use the psycopg 3 driver: postgresql+psycopg://… (got {parsed.drivername})"
            )
        return create_engine(
            parsed.set(drivername="postgresql+psycopg"),
            pool_size=16,
            max_overflow=48,
            pool_pre_ping=True,
        )
    raise ConfigError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)}: "
        "use sqlite:///path or postgresql+psycopg://user:pass@host/db"
    )


def at_head(engine: Engine) -> bool:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent). Alembic is imported only
    when there is something to do: it costs start-up time and ~10 MB of memory."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction. SQLite allows one writer at a time: queueing the threads
    of this process on a lock is far faster and fairer than SQLite's busy handler,
    which sleeps with growing back-offs (p99 of seconds under load)."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        with engine.begin() as conn:
            yield conn
        return
    with lock, engine.begin() as conn:
        yield conn


@dataclass
class _Job:
    work: Callable[[Connection], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupWriter:
    """Group commit for SQLite: writes from many threads share one transaction and
    so one fsync. Each job runs inside its own SAVEPOINT, so one job's error (a
    duplicate, say) rolls back that job alone. A single daemon thread does the
    writing; it drains whatever queued up while the previous commit was syncing."""

    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self._engine = weakref.ref(engine)
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def run(self, work: Callable[[Connection], T]) -> T:
        job = _Job(work)
        self._queue.put(job)
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="tzzr-group-commit", daemon=True
                    )
                    self._thread.start()
        job.done.wait()
        if job.error is not None:
            raise job.error
        result: T = job.result
        return result

    def _loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            engine = self._engine()
            if engine is None:
                return
            self._commit(engine, batch)

    @staticmethod
    def _commit(engine: Engine, batch: list[_Job]) -> None:
        try:
            with write_transaction(engine) as conn:
                for job in batch:
                    savepoint = conn.begin_nested()
                    try:
                        job.result = job.work(conn)
                        savepoint.commit()
                    except Exception as exc:
                        savepoint.rollback()
                        job.error = exc
        except Exception as exc:  # the commit itself failed: nothing in it is durable
            for job in batch:
                job.error = job.error or exc
                job.result = None
        finally:
            for job in batch:
                job.done.set()


def grouped_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run `work` in a write transaction; on SQLite, batched with concurrent writers
    (group commit), elsewhere a transaction of its own."""
    writer = _WRITERS.get(engine)
    if writer is None:
        with engine.begin() as conn:
            return work(conn)
    return writer.run(work)
