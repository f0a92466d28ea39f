"""One heartbeat thread per process: it renews every lease the process holds (each
registered with how to renew it and how often), instead of a thread per run or batch.
A renewal that answers False means the lease was lost (cancelled, or taken by another
worker after it ran out): the holding is marked `lost`, its `on_lost` is called, and it
is renewed no more."""

import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("tzzr.work")

Renew = Callable[[], bool]


class Holding:
    """A lease (or a set of them) that the heartbeat renews until released."""

    def __init__(
        self,
        beats: "Heartbeats",
        renew: Renew,
        interval: float,
        on_lost: Callable[[], None] | None,
    ) -> None:
        self._beats = beats
        self.renew = renew
        self.interval = interval
        self.on_lost = on_lost
        self.next_at = beats.clock() + interval
        self.lost = threading.Event()

    def release(self) -> None:
        self._beats.release(self)

    def __enter__(self) -> "Holding":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Heartbeats:
    """The registry and its one daemon thread (started on the first holding)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._reset()

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._held: list[Holding] = []
        self._thread: threading.Thread | None = None

    def hold(
        self, renew: Renew, interval: float, on_lost: Callable[[], None] | None = None
    ) -> Holding:
        """Renew by calling `renew` every `interval` seconds until the holding is
        released (it is a context manager) or `renew` answers False."""
        holding = Holding(self, renew, interval, on_lost)
        with self._wake:
            self._held.append(holding)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, daemon=True, name="tzzr-heartbeat"
                )
                self._thread.start()
            self._wake.notify()
        return holding

    def release(self, holding: Holding) -> None:
        with self._wake:
            if holding in self._held:
                self._held.remove(holding)

    def holding(self) -> int:
        with self._wake:
            return len(self._held)

    def _due(self) -> list[Holding]:
        """Wait until a holding is due; those that are."""
        with self._wake:
            while True:
                if not self._held:
                    self._wake.wait()
                    continue
                now = self.clock()
                due = [h for h in self._held if h.next_at <= now]
                if due:
                    return due
                self._wake.wait(min(h.next_at for h in self._held) - now)

    def _loop(self) -> None:
        while True:
            for holding in self._due():
                with self._wake:
                    if holding not in self._held:  # released meanwhile: renew it no more
                        continue
                holding.next_at = self.clock() + holding.interval
                try:
                    kept = holding.renew()
                except Exception:  # the database went away: try again next beat
                    log.exception("renewing a lease failed")
                    continue
                if not kept:
                    self.release(holding)
                    holding.lost.set()
                    if holding.on_lost is not None:
                        try:
                            holding.on_lost()
                        except Exception:
                            log.exception("telling a holder of its lost lease failed")


HEARTBEATS = Heartbeats()  # the process's one heartbeat


def heartbeat() -> Heartbeats:
    """This process's heartbeat (a forked worker gets its own, empty)."""
    return HEARTBEATS


os.register_at_fork(after_in_child=HEARTBEATS._reset)
