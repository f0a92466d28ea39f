"""One engine factory for SQLite and PostgreSQL, and migrations to head."""

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
HEAD = "0003"  # the newest revision in migrations/versions (a test keeps this true)
_WRITE_LOCKS: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()


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
        _WRITE_LOCKS[engine] = threading.Lock()
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
