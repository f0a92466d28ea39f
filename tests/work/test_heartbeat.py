import threading
import time

from tzzr.work.heartbeat import Heartbeats, heartbeat


def wait_until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_one_thread_renews_every_lease_it_holds() -> None:
    beats = Heartbeats()
    counts = {"a": 0, "b": 0}

    def renew(name: str) -> bool:
        counts[name] += 1
        return True

    before = set(threading.enumerate())  # the process's own heartbeat may run already
    with beats.hold(lambda: renew("a"), 0.01), beats.hold(lambda: renew("b"), 0.02):
        wait_until(lambda: counts["a"] >= 4 and counts["b"] >= 2)
        started = [t for t in threading.enumerate() if t not in before]
        assert [t.name for t in started] == ["tzzr-heartbeat"]
        assert beats.holding() == 2
    assert beats.holding() == 0
    time.sleep(0.05)  # a renewal already under way when they were released may end
    settled = dict(counts)
    time.sleep(0.1)  # released: renewed no more (a check of absence, not a sync)
    assert counts == settled


def test_a_lost_lease_is_reported_to_its_holder_and_not_renewed_again() -> None:
    beats = Heartbeats()
    calls: list[str] = []
    told = threading.Event()

    def renew() -> bool:
        calls.append("lost")
        return False

    kept = beats.hold(lambda: True, 0.01)
    lost = beats.hold(renew, 0.01, on_lost=told.set)
    assert lost.lost.wait(5) and told.wait(5)
    assert calls == ["lost"] and beats.holding() == 1 and not kept.lost.is_set()
    kept.release()


def test_a_failing_renewal_is_tried_again() -> None:
    beats = Heartbeats()
    tries: list[int] = []

    def renew() -> bool:
        tries.append(1)
        if len(tries) < 3:
            raise ConnectionError("the database went away")
        return True

    with beats.hold(renew, 0.01) as holding:
        wait_until(lambda: len(tries) >= 3)
        assert not holding.lost.is_set()


def test_the_process_has_one_heartbeat() -> None:
    assert heartbeat() is heartbeat()
