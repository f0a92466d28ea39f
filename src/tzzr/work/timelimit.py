"""A per-item time limit. A worker process runs its item in the main thread, where
SIGALRM interrupts it; elsewhere (a server's thread) the limit is checked when the item
returns (`TimedOut` then too)."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class TimedOut(Exception):
    """The item ran past its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` with TimedOut (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
