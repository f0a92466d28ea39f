import threading
import time

import pytest

from tzzr.work.timelimit import TimedOut, time_limit


def test_the_main_thread_is_interrupted_at_the_limit() -> None:
    started = time.monotonic()
    with pytest.raises(TimedOut), time_limit(0.05):
        time.sleep(5)
    assert time.monotonic() - started < 1


def test_a_block_within_its_limit_is_left_alone_and_the_alarm_cleared() -> None:
    with time_limit(0.5):
        time.sleep(0.01)
    time.sleep(0.6)  # no alarm goes off later: this is the check, not synchronisation


def test_another_thread_is_not_interrupted() -> None:
    finished: list[bool] = []

    def work() -> None:
        with time_limit(0.01):
            time.sleep(0.05)
        finished.append(True)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert finished == [True]
