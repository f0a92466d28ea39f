"""The run queue (queue.py): huey over SQLite (the embedded default) or Redis; a message
carries `h_instancia/run_id` (or `x:` and an execution id); URLs are checked at
construction; a delayed message waits in the schedule until it falls due."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tzzr.errors import ConfigError
from tzzr.queue import RunQueue, parse_run_message, run_message


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunQueue]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        url = need("TZZR_TEST_REDIS_URL", "Redis")
    made = RunQueue(url, prefix=f"t{time.monotonic_ns()}")
    yield made
    made.close()


def test_a_message_names_its_instance_and_run() -> None:
    assert run_message("ab" * 32, "run-1") == "ab" * 32 + "/run-1"
    assert parse_run_message(run_message("ab" * 32, "run-1")) == ("ab" * 32, "run-1")
    assert parse_run_message("run-1") == (None, "run-1")  # queued by 0.1: no instance


@pytest.mark.parametrize(
    ("url", "names", "says"),
    [
        ("sqlite://", ["cpu"], "needs a file"),
        ("http://queue.example", ["cpu"], "unsupported queue URL"),
        ("sqlite:///q.db", ["tpu"], "unknown queue 'tpu'"),
    ],
)
def test_a_bad_queue_url_or_name_is_refused_at_once(url: str, names: list[str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        RunQueue(url, names=names)


def test_messages_come_back_from_any_queue_in_order(queue: RunQueue) -> None:
    queue.enqueue("gpu", "deck/run-g")
    queue.enqueue("cpu", "deck/run-1")
    queue.enqueue("cpu", "deck/run-2")
    assert queue.depth() == {"cpu": 2, "gpu": 1}
    taken = [queue.take_any(["cpu", "gpu"], wait=False) for _ in range(3)]
    assert [(t[0], queue.payload(t[1])) for t in taken if t is not None] == [
        ("cpu", "deck/run-1"),
        ("cpu", "deck/run-2"),
        ("gpu", "deck/run-g"),
    ]
    assert queue.take_any(["cpu", "gpu"], wait=False) is None
    with pytest.raises(ConfigError, match="not served here"):
        RunQueue(queue.url, names=["cpu"]).enqueue("gpu", "deck/run-3")


def test_a_delayed_message_waits_in_the_schedule_until_due(queue: RunQueue) -> None:
    queue.enqueue("cpu", "deck/run-1", delay=0.3)
    enqueued = time.monotonic()
    taken = queue.take_any(["cpu"], wait=False)
    assert taken is not None and queue.defer(*taken)  # too early: back to the schedule
    assert queue.take_any(["cpu"], wait=False) is None
    deadline = time.monotonic() + 10
    while not queue.promote_due():
        assert time.monotonic() < deadline, "the message never fell due"
        time.sleep(0.02)
    assert time.monotonic() - enqueued >= 0.3
    taken = queue.take_any(["cpu"], wait=False)
    assert taken is not None and not queue.defer(*taken)  # due now: run it
    ran: list[str] = []
    queue.handle_with(ran.append)
    queue.execute(*taken)
    assert ran == ["deck/run-1"]
