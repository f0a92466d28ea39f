"""Database engines (tzzr.db.engine): SQLite in WAL mode with one writer at a time,
supported URLs named, and a server that migrates in a child process."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from tzzr.db.engine import create_db_engine, write_transaction


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_unsupported_urls_say_what_to_use() -> None:
    from tzzr.errors import ConfigError

    with pytest.raises(ConfigError, match="postgresql\\+psycopg"):
        create_db_engine("mysql://x/y")


def test_a_server_migrates_in_a_child_and_never_loads_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from tzzr.config import Settings\n"
        "from tzzr.services import Services\n"
        f"s = Services.build(Settings(home={str(tmp_path)!r}), long_running=True)\n"
        "assert s.instances.list() == []\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_sqlite_writers_take_turns_and_every_write_lands(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        inside = 0
        overlapped = False
        guard = threading.Lock()

        def write(n: int) -> None:
            nonlocal inside, overlapped
            with write_transaction(engine, redoable=n % 2 == 0) as conn:
                with guard:
                    inside += 1
                    overlapped = overlapped or inside > 1
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
                time.sleep(0.002)  # hold the writer's turn a little: others must wait
                with guard:
                    inside -= 1

        threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not overlapped
        with engine.connect() as conn:
            assert sorted(conn.execute(text("SELECT n FROM t")).scalars()) == list(range(16))
        assert (tmp_path / "x.db-writer.lock").exists()  # the processes' flock
    finally:
        engine.dispose()


def test_a_failed_write_transaction_rolls_back_and_frees_the_writer(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
        with pytest.raises(RuntimeError), write_transaction(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("stop")
        with write_transaction(engine) as conn:  # the lock was released
            conn.execute(text("INSERT INTO t VALUES (2)"))
        with engine.connect() as conn:
            assert list(conn.execute(text("SELECT n FROM t")).scalars()) == [2]
    finally:
        engine.dispose()
