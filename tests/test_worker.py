"""A worker process's turn (worker.py `_work`): a run's message is executed by itself; an
execution's is taken with the others waiting behind it, as many as ALFRED batches, and a
run's message met on the way is executed after the batch; a batch that fails (the
database went away) is logged, not raised: the reaper queues it again. Real worker
processes (supervised, killed, restarted) are tests/runs' and tests/flows/test_durable.py's."""

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from tzzr import worker
from tzzr.flows.engine import PREFIX
from tzzr.queue import RunQueue


class Message:
    def __init__(self, payload: str) -> None:
        self.args = (payload,)


class Queue:
    """The part of RunQueue a worker's turn uses, over a list of messages."""

    def __init__(self, *payloads: str) -> None:
        self.waiting = [("cpu", Message(p)) for p in payloads]
        self.executed: list[str] = []
        self.waits: list[bool] = []

    def take_any(self, names: list[str], wait: bool = True) -> tuple[str, Any] | None:
        assert names == ["cpu", "gpu"]
        self.waits.append(wait)
        return self.waiting.pop(0) if self.waiting else None

    @staticmethod
    def payload(message: Message) -> str:
        return message.args[0]

    def execute(self, name: str, message: Message) -> None:
        self.executed.append(f"{name} {message.args[0]}")

    @staticmethod
    def defer(name: str, message: Message) -> bool:
        return False  # every message here is due


class Runner:
    def __init__(self, batch: int, fail: bool = False) -> None:
        self.batch = batch
        self.fail = fail
        self.batches: list[tuple[list[str], str]] = []

    def batch_size(self) -> int:
        return self.batch

    def advance_many(self, ids: list[str], name: str) -> dict[str, str]:
        self.batches.append((ids, name))
        if self.fail:
            raise ConnectionError("the database went away")
        return dict.fromkeys(ids, "done")


class Alfred:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner


def turn(queue: Queue, runner: Runner) -> None:
    first = queue.take_any(["cpu", "gpu"])
    worker._work(queue, Alfred(runner), ["cpu", "gpu"], first, "host:1/0")  # type: ignore[arg-type]


@pytest.fixture
def runner() -> Runner:
    return Runner(batch=3)


def test_a_runs_message_is_executed_by_itself(runner: Runner) -> None:
    queue = Queue("deck/run-1", PREFIX + "e1")
    turn(queue, runner)
    assert queue.executed == ["cpu deck/run-1"] and runner.batches == []
    assert [m.args[0] for _, m in queue.waiting] == [PREFIX + "e1"]  # left for the next turn


def test_executions_are_taken_as_one_batch_without_waiting(runner: Runner) -> None:
    queue = Queue(*(PREFIX + f"e{i}" for i in range(5)))
    turn(queue, runner)
    assert runner.batches == [(["e0", "e1", "e2"], "host:1/0")]  # ALFRED's batch size
    assert queue.waits == [True, False, False]  # the rest are taken only if there
    turn(queue, runner)
    assert runner.batches[-1] == (["e3", "e4"], "host:1/0")  # the queue ran dry
    assert queue.executed == []


def test_a_runs_message_behind_the_executions_runs_after_them(runner: Runner) -> None:
    queue = Queue(PREFIX + "e1", "deck/run-2", PREFIX + "e3")
    turn(queue, runner)
    assert runner.batches == [(["e1"], "host:1/0")]
    assert queue.executed == ["cpu deck/run-2"]
    assert len(queue.waiting) == 1


def test_a_failed_batch_is_logged_for_the_reaper(caplog: pytest.LogCaptureFixture) -> None:
    runner = Runner(batch=2, fail=True)
    queue = Queue(PREFIX + "e1", PREFIX + "e2", "deck/run-3")
    with caplog.at_level(logging.ERROR, logger="tzzr.worker"):
        turn(queue, runner)
    assert "running executions e1, e2 failed" in caplog.text
    assert queue.executed == []  # not taken: the batch was full
    assert [m.args[0] for _, m in queue.waiting] == ["deck/run-3"]


def test_an_executions_retry_waits_for_its_back_off(tmp_path: Path) -> None:
    """A retry is queued with a delay (huey's schedule); a worker that takes its message
    early puts it back in the schedule instead of running it, and runs it once due."""
    queue = RunQueue(f"sqlite:///{tmp_path / 'queue.db'}")
    runner = Runner(batch=3)
    queue.enqueue("cpu", PREFIX + "e1", delay=0.3)
    queued = time.monotonic()
    taken = queue.take_any(["cpu", "gpu"])
    assert taken is not None
    worker._work(queue, Alfred(runner), ["cpu", "gpu"], taken, "host:1/0")  # type: ignore[arg-type]
    assert runner.batches == []  # not yet: its back-off is not over
    assert queue.take_any(["cpu", "gpu"], wait=False) is None  # it waits in the schedule
    deadline = time.monotonic() + 10
    while not queue.promote_due():
        assert time.monotonic() < deadline, "the retry never fell due"
        time.sleep(0.02)
    assert time.monotonic() - queued >= 0.3
    taken = queue.take_any(["cpu", "gpu"])
    assert taken is not None
    worker._work(queue, Alfred(runner), ["cpu", "gpu"], taken, "host:1/0")  # type: ignore[arg-type]
    assert runner.batches == [(["e1"], "host:1/0")]
    queue.close()
