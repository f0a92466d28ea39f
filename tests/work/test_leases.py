"""Claim under a lease, renew, write once, cancel and reap, on a real table (jobs) of
SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.instances import Instances
from tzzr.work.leases import Leases

LEASES = Leases(Job.__table__, ("id",), started=None)  # type: ignore[arg-type]
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def queue(engine: Engine, *ids: str) -> None:
    h = Instances(engine).add(f"i{ids[0]}").h_instancia
    with engine.begin() as conn:
        for job_id in ids:
            conn.execute(
                insert(Job).values(
                    id=job_id,
                    h_instancia=h,
                    kind="test",
                    status="queued",
                    request={},
                    progress={},
                    created_at=NOW,
                )
            )


def row(engine: Engine, job_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Job).where(Job.id == job_id)).one()


def claim(engine: Engine, job_id: str, worker: str, now: datetime = NOW) -> Any:
    with write_transaction(engine) as conn:
        return LEASES.claim(conn, (job_id,), worker, now, now + timedelta(seconds=30))


def test_a_row_is_claimed_once_and_its_holder_writes_once(engine: Engine) -> None:
    queue(engine, "a")
    held = claim(engine, "a", "w1")
    assert (held.status, held.attempt, held.worker) == ("running", 1, "w1")
    assert claim(engine, "a", "w2") is None  # not queued any more
    with write_transaction(engine) as conn:
        assert LEASES.renew(conn, ("a",), 1, NOW + timedelta(minutes=1))
        assert LEASES.write(conn, ("a",), 1, status="done", result={"x": 1}, lease_until=None)
        assert not LEASES.write(conn, ("a",), 1, status="failed")  # recorded once
    assert (row(engine, "a").status, row(engine, "a").result) == ("done", {"x": 1})


def test_a_superseded_holders_answer_is_dropped(engine: Engine) -> None:
    queue(engine, "a")
    first = claim(engine, "a", "w1")
    later = NOW + timedelta(minutes=5)  # its lease ran out: the reaper gives it back
    reaped = LEASES.reap(engine, later, lambda r: {"status": "queued", "worker": None})
    assert [(r.id, values["status"]) for r, values in reaped] == [("a", "queued")]
    second = claim(engine, "a", "w2", later)
    assert second.attempt == 2
    with write_transaction(engine) as conn:
        assert not LEASES.renew(conn, ("a",), first.attempt, later)  # the lost lease
        assert not LEASES.write(conn, ("a",), first.attempt, status="done")
        assert LEASES.write(conn, ("a",), second.attempt, status="done")
    assert row(engine, "a").worker == "w2"


def test_the_reaper_leaves_live_leases_and_what_it_is_told_to(engine: Engine) -> None:
    queue(engine, "dead", "live", "kept")
    for job_id in ("dead", "live", "kept"):
        claim(engine, job_id, f"w-{job_id}")
    with write_transaction(engine) as conn:  # the live one's heartbeat renewed it
        LEASES.renew(conn, ("live",), 1, NOW + timedelta(hours=1))
    at = NOW + timedelta(minutes=1)
    reaped = LEASES.reap(
        engine, at, lambda r: None if r.id == "kept" else {"status": "failed", "lease_until": None}
    )
    assert [r.id for r, _ in reaped] == ["dead"]
    assert [row(engine, j).status for j in ("dead", "live", "kept")] == [
        "failed",
        "running",
        "running",
    ]


def test_many_are_claimed_at_once_and_cancel_drops_a_running_answer(engine: Engine) -> None:
    queue(engine, "a", "b", "c")
    claim(engine, "c", "other")
    with write_transaction(engine) as conn:
        got = LEASES.claim_many(conn, ["a", "b", "c"], "w", NOW, NOW + timedelta(seconds=30))
    assert sorted(r.id for r in got) == ["a", "b"]
    with write_transaction(engine) as conn:
        assert LEASES.cancel(conn, ("a",), status="cancelled")
        assert not LEASES.cancel(conn, ("a",), status="cancelled")  # it had ended
        assert not LEASES.write(conn, ("a",), 1, status="done")
        assert LEASES.reserve(conn, ("b",), "w", NOW + timedelta(hours=1))
        assert not LEASES.reserve(conn, ("b",), "someone-else", NOW + timedelta(hours=1))
    assert row(engine, "a").status == "cancelled"
