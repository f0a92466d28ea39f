"""A bound on blocking work that a request waits for (`/grace/runsync`): at most `size`
calls at once, each in a thread of this bound's own pool. One call more is refused at
once (429) instead of waiting in a queue nobody bounds, and a caller stops waiting after
`timeout` (503). A call past its timeout keeps its slot until its thread really ends,
so the bound holds even for work that cannot be interrupted."""

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request

from tzzr.errors import Busy, TooManyRequests

T = TypeVar("T")
SMOOTHING = 0.2  # weight of the newest call in the typical duration


class Slots:
    def __init__(self, size: int, timeout: float, name: str) -> None:
        self.size = size
        self.timeout = timeout
        self.busy = 0
        self._name = name
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._typical = 1.0  # seconds a call takes (a moving average): the Retry-After

    def retry_after(self) -> int:
        return max(1, math.ceil(min(self._typical, self.timeout)))

    async def run(self, work: Callable[[float], T]) -> T:
        """`work(deadline)` in a free slot (`deadline` is a time.monotonic() value, for
        the work's own subprocess timeouts); TooManyRequests when none is free, Busy
        once the timeout passes."""
        with self._lock:
            if self.busy >= self.size:
                raise TooManyRequests(
                    f"all {self.size} slots of {self._name} are busy; try again in "
                    f"{self.retry_after()} s, or queue the work with POST /grace/run",
                    retry_after=self.retry_after(),
                )
            self.busy += 1
        started = time.monotonic()
        try:
            future = self._pool.submit(work, started + self.timeout)
        except BaseException:
            self._release(started)
            raise
        future.add_done_callback(lambda _: self._release(started))
        waited = asyncio.wrap_future(future)
        waited.add_done_callback(_retrieve)  # nobody reads an answer that came too late
        try:
            return await asyncio.wait_for(asyncio.shield(waited), self.timeout)
        except TimeoutError:
            raise Busy(
                f"{self._name} did not finish within {self.timeout:g} s; send the work to "
                "POST /grace/run (queued; poll /grace/status/{id}) instead",
                retry_after=self.retry_after(),
            ) from None

    def _release(self, started: float) -> None:
        took = time.monotonic() - started
        with self._lock:
            self.busy -= 1
            self._typical += SMOOTHING * (took - self._typical)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _retrieve(future: "asyncio.Future[Any]") -> None:
    if not future.cancelled():
        future.exception()


def runsync_slots(request: Request) -> Slots:
    """The app's runsync bound (TZZR_RUNSYNC_CONCURRENCY, TZZR_RUNSYNC_TIMEOUT_SECONDS),
    made on first use (nothing awaits between the look and the set)."""
    found: Slots | None = getattr(request.app.state, "runsync_slots", None)
    if found is None:
        settings = request.app.state.services.settings
        found = Slots(settings.runsync_concurrency, settings.runsync_timeout_seconds, "runsync")
        request.app.state.runsync_slots = found
    return found
