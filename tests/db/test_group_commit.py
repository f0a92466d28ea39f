"""Group commit on SQLite: concurrent writes share commits, and a failing write rolls
back alone."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import IntegrityError

from tzzr.db.engine import create_db_engine, grouped_write


def test_concurrent_writes_share_commits_and_fail_alone(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"))
    commits = 0

    @event.listens_for(engine, "commit")
    def count(_: Connection) -> None:
        nonlocal commits
        commits += 1

    barrier = threading.Barrier(40)
    outcomes: dict[int, str] = {}

    def writer(n: int) -> None:
        def work(conn: Connection) -> int:
            conn.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": n % 30, "v": str(n)})
            return n

        barrier.wait()
        try:
            assert grouped_write(engine, work) == n
            outcomes[n] = "ok"
        except IntegrityError:
            outcomes[n] = "duplicate"

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT k, v FROM t ORDER BY k")).all()
    assert sorted(outcomes.values()).count("ok") == 30
    assert sorted(outcomes.values()).count("duplicate") == 10
    assert [r.k for r in rows] == list(range(30))
    assert all(outcomes[int(r.v)] == "ok" for r in rows)
    assert commits < 40  # batched: fewer commits (fsyncs) than writes
    engine.dispose()


def test_an_error_is_raised_to_its_caller_only(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'g.db'}")

    def broken(conn: Connection) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        grouped_write(engine, broken)
    assert grouped_write(engine, lambda conn: conn.execute(text("SELECT 41 + 1")).scalar()) == 42
    engine.dispose()
