"""The periodic scheduler: with two schedulers (two servers) on one database a job runs
once per period; a failing job is logged and runs again; a stopped scheduler's turns
are given back. An injected clock moves time; nothing sleeps."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from tzzr.work.scheduler import Periodic, Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_two_schedulers_run_a_job_once_per_period(engine: Engine) -> None:
    clock = Clock()
    ran: list[str] = []
    one = Scheduler(engine, [Periodic("sweep", 30, lambda: ran.append("one"))], "one", clock)
    two = Scheduler(engine, [Periodic("sweep", 30, lambda: ran.append("two"))], "two", clock)
    for _ in range(4):  # four periods, both schedulers ticking several times in each
        for _ in range(3):
            one.tick()
            two.tick()
            clock.advance(1)
        clock.advance(27)
    assert len(ran) == 4, ran


def test_schedulers_racing_in_threads_run_a_job_once(engine: Engine) -> None:
    clock = Clock()
    ran: list[int] = []
    lock = threading.Lock()

    def job(n: int) -> None:
        with lock:
            ran.append(n)

    schedulers = [
        Scheduler(engine, [Periodic("seal", 60, lambda n=n: job(n))], f"s{n}", clock)  # type: ignore[misc]
        for n in range(4)
    ]
    go = threading.Barrier(len(schedulers))

    def tick(scheduler: Scheduler) -> None:
        go.wait()
        scheduler.tick()

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ran) == 1, ran


def test_a_failing_job_is_logged_and_the_others_go_on(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("the database went away")

    scheduler = Scheduler(
        engine,
        [Periodic("broken", 10, broken), Periodic("fine", 10, lambda: ran.append("fine"))],
        "s",
        clock,
    )
    with caplog.at_level(logging.ERROR, "tzzr.work"):
        assert scheduler.tick() == 10.0  # the next is due in a period
        clock.advance(10)
        scheduler.tick()
    assert ran == ["fine", "fine"]
    assert sum("periodic job broken failed" in r.getMessage() for r in caplog.records) == 2


def test_a_job_may_wait_a_period_before_its_first_run(engine: Engine) -> None:
    clock = Clock()
    ran: list[str] = []
    scheduler = Scheduler(
        engine, [Periodic("alerts", 30, lambda: ran.append("x"), at_start=False)], "s", clock
    )
    scheduler.tick()
    assert ran == []
    clock.advance(30)
    scheduler.tick()
    assert ran == ["x"]


def test_a_stopped_scheduler_gives_its_turns_back(engine: Engine) -> None:
    clock = Clock()
    ran: list[str] = []
    first = Scheduler(engine, [Periodic("sweep", 30, lambda: ran.append("first"))], "a", clock)
    first.tick()
    first.stop()  # a restart: the new server sweeps at once, as the old one did
    again = Scheduler(engine, [Periodic("sweep", 30, lambda: ran.append("again"))], "a", clock)
    again.tick()
    assert ran == ["first", "again"]


def test_the_loop_runs_in_one_thread_until_stopped(engine: Engine) -> None:
    done = threading.Event()
    scheduler = Scheduler(engine, [Periodic("x", 60, done.set)], "s").start()
    try:
        assert done.wait(10)
    finally:
        scheduler.stop()


def test_no_job_runs_while_the_scheduler_is_paused(engine: Engine) -> None:
    """The worker supervisor forks a process only while paused: no job holds a lock."""
    ran = threading.Event()
    scheduler = Scheduler(engine, [Periodic("job", 0.01, ran.set)], "host:1")
    with scheduler.paused():
        scheduler.start()
        assert not ran.wait(0.3)  # its first run is due at once, and waits
    assert ran.wait(10)
    scheduler.stop()
