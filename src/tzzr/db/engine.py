"""One engine factory for SQLite and PostgreSQL, and migrations to head."""

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from tzzr.errors import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0011"  # the newest revision in migrations/versions (a test keeps this true)


class WriterLock:
    """SQLite's one writer, taken in turn: the threads of this process queue on a lock,
    and the processes on one database (the server, its workers) on an flock of a file
    beside it. Both wake the next writer at once, where SQLite's busy handler sleeps
    with growing back-offs (p99 of seconds under load)."""

    def __init__(self, database: str | None) -> None:
        self._threads = threading.Lock()
        self._path = f"{database}-writer.lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid = os.getpid()

    def __enter__(self) -> "WriterLock":
        if self._pid != os.getpid():  # a forked child: its own lock and file description
            self._threads, self._fd, self._pid = threading.Lock(), None, os.getpid()
        self._threads.acquire()
        if self._path is not None:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)


_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, WriterLock]" = weakref.WeakKeyDictionary()
_RELAXED: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; FULL makes every acknowledged
    # commit durable across power loss, not only process crashes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


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
        _WRITE_LOCKS[engine] = WriterLock(parsed.database)
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
def write_transaction(engine: Engine, *, redoable: bool = False) -> Iterator[Connection]:
    """A write transaction. SQLite allows one writer at a time: queueing the threads
    of this process on a lock is far faster and fairer than SQLite's busy handler,
    which sleeps with growing back-offs (p99 of seconds under load).

    `redoable`: work that is redone if lost (a flow's step progress). On SQLite it
    commits with synchronous=NORMAL: it survives any process crash (kill -9), and only
    a power loss or an OS crash can lose it, in which case the work is done again. The
    next FULL commit makes it durable too (the WAL is written in order)."""
    lock = _WRITE_LOCKS.get(engine)
    if lock is None:
        with engine.begin() as conn:
            yield conn
        return
    target = _relaxed(engine) if redoable else engine
    with lock, target.begin() as conn:
        yield conn


def _normal_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _relaxed(engine: Engine) -> Engine:
    """The same SQLite database through connections with synchronous=NORMAL, behind
    the same write lock."""
    found = _RELAXED.get(engine)
    if found is None:
        found = create_engine(
            engine.url,
            pool_size=4,
            max_overflow=12,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(found, "connect", _sqlite_pragmas)
        event.listen(found, "connect", _normal_sync)  # after: it overrides FULL
        _RELAXED[engine] = found
    return found


def _migrate_url(url: str) -> None:
    engine = create_db_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def migrate_in_child(engine: Engine, url: str) -> None:
    """Migrate in a forked child, so that a long-running server never loads Alembic
    (about 10 MB it would keep for nothing)."""
    if at_head(engine):
        return
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_migrate_url, args=(url,))
    child.start()
    child.join()
    if child.exitcode != 0:
        raise ConfigError(
            f"migrating {make_url(url).render_as_string(hide_password=True)} "
            "failed; the error is printed above"
        )


def dispose(engine: Engine) -> None:
    """Close the engine's connections, and those of its relaxed twin."""
    relaxed = _RELAXED.pop(engine, None)
    if relaxed is not None:
        relaxed.dispose()
    engine.dispose()
