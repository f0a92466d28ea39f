"""`tzzr worker`: a supervisor and N worker processes. Each process takes run ids from
its queues and executes them in its main thread (so a run's time limit can interrupt
it); the supervisor restarts a process that dies, and its scheduler (tzzr.periodic,
once per deployment each period) moves due retries into the queue and re-queues runs
and executions whose lease expired (a worker on any machine died)."""

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tzzr.config import Settings
from tzzr.flows.engine import PREFIX

if TYPE_CHECKING:
    from tzzr.flows.engine import Alfred
    from tzzr.queue import RunQueue

log = logging.getLogger("tzzr.worker")
SUPERVISE_SECONDS = 0.25
STOP_GRACE_SECONDS = 10.0
# An idle worker polls a SQLite queue with back-off up to this (Redis blocks instead):
# at most this much added latency, a few cheap reads a second.
IDLE_MAX_SECONDS = 0.025


def _child(settings: Settings, queues: Sequence[str], name: str) -> None:
    from tzzr.services import Services

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides
    from tzzr.sentinel import tracing

    tracing.setup(settings, "tzzr-worker")
    services = Services.build(settings)
    queue = services.queue
    executor = services.executor(name)
    alfred = services.alfred

    queue.handle_with(executor.execute)  # runs; executions go to ALFRED by _work
    idle = 0.002
    try:
        names = list(queues)
        while not stop.is_set():
            taken = queue.take_any(names)
            if taken is not None:
                _work(queue, alfred, names, taken, name)
            if taken is not None or queue.blocking:
                idle = 0.002
            else:
                stop.wait(idle)
                idle = min(idle * 2, IDLE_MAX_SECONDS)
    finally:
        services.close()


def _work(queue: "RunQueue", alfred: "Alfred", names: list[str], taken: Any, name: str) -> None:
    """A run's message is executed by itself; an execution's comes with the others
    waiting behind it (as many as ALFRED runs in one batch: flows/runner.py)."""
    executions: list[str] = []
    while taken is not None:
        if queue.defer(*taken):  # an execution's retry in its back-off: not yet
            taken = queue.take_any(names, wait=False)
            continue
        payload = queue.payload(taken[1])
        if not payload.startswith(PREFIX):
            break
        executions.append(payload[len(PREFIX) :])
        taken = None
        if len(executions) < alfred.runner.batch_size():
            taken = queue.take_any(names, wait=False)
    if executions:
        try:
            alfred.runner.advance_many(executions, name)
        except Exception:  # the database went away: the reaper queues them again
            log.exception("running executions %s failed", ", ".join(executions))
    if taken is not None:
        queue.execute(*taken)


class WorkerPool:
    def __init__(
        self,
        settings: Settings,
        queues: Sequence[str],
        concurrency: int,
        parent_pid: int | None = None,
    ) -> None:
        self.settings = settings
        self.parent_pid = parent_pid  # embedded in a server: stop when it is gone
        self.queues = list(queues)
        self.concurrency = concurrency
        self.stop = threading.Event()
        self._context = multiprocessing.get_context("fork")
        self._children: dict[int, Any] = {}
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def _start(self, index: int) -> None:
        child = self._context.Process(
            target=_child,
            args=(self.settings, self.queues, f"{self.name}/{index}"),
            name=f"tzzr-worker-{index}",
            daemon=True,
        )
        child.start()
        self._children[index] = child

    def run(self) -> None:
        """Supervise until SIGTERM / SIGINT (or `stop` is set)."""
        from tzzr.periodic import worker_scheduler
        from tzzr.services import Services

        services = Services.build(self.settings)
        for index in range(self.concurrency):
            self._start(index)
        executor = services.executor(f"{self.name}/supervisor")
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
        scheduler = worker_scheduler(services, executor).start()
        try:
            while not self.stop.wait(SUPERVISE_SECONDS):
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("the server that started this worker is gone; stopping")
                    break
                for index, child in list(self._children.items()):
                    if not child.is_alive():
                        log.warning(
                            "worker process %s exited (%s); starting another", index, child.exitcode
                        )
                        with scheduler.paused():  # no lock held by a job at the fork
                            self._start(index)
        finally:
            scheduler.stop()
            self._shutdown()
            services.close()

    def _shutdown(self) -> None:
        for child in self._children.values():
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self._children.values():
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join()
