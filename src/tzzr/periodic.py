"""The deployment's periodic jobs, each run by tzzr.work's scheduler once per deployment
per period (whichever server or worker supervisor wins its turn): the server's (MASON's
sweep, SENTINEL's alerts and event pruning, automatic sealing, reaping jobs) and the
worker supervisor's (promoting due retries, reaping runs and executions, MASON's sweep:
the same job by the same name, so it runs once, not in both)."""

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tzzr.jobs import REAP_SECONDS as JOB_REAP_SECONDS
from tzzr.runs.executor import Executor
from tzzr.services import Services
from tzzr.work.scheduler import Periodic, Scheduler

SWEEP_SECONDS = 30.0  # MASON's deadlines
PROMOTE_SECONDS = 0.25  # retries whose back-off is over, into the queue
REAP_SECONDS = 1.0  # runs and executions whose worker died


def holder(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}/{role}"


def _logged(name: str, what: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        done = job()
        count = done if isinstance(done, int) else len(done) if isinstance(done, list) else 0
        if count:
            logging.getLogger(name).info("%s: %d", what, count)

    return run


def _sweep(services: Services) -> Periodic:
    return Periodic(
        "mason-sweep",
        SWEEP_SECONDS,
        _logged("tzzr.mason", "item(s) reached their deadline", services.mason.sweep),
    )


def server_jobs(services: Services) -> list[Periodic]:
    settings = services.settings
    jobs = [
        _sweep(services),
        Periodic(
            "reap-jobs",
            JOB_REAP_SECONDS,
            _logged("tzzr.jobs", "job(s) lost their server: resumed or failed", services.jobs.reap),
        ),
    ]
    if settings.alert_interval > 0:
        from tzzr.sentinel.events import prune

        jobs += [
            Periodic("sentinel-alerts", settings.alert_interval, services.alerts.evaluate, False),
            Periodic(
                "sentinel-prune",
                settings.alert_interval,
                lambda: prune(services.engine, settings.event_retention_days),
                False,
            ),
        ]
    if settings.block_interval > 0:
        from tzzr.feldman.sealing import seal_due

        due = timedelta(seconds=settings.block_interval)
        jobs.append(
            Periodic(  # at start too: a block that fell due while the server was down
                "seal",
                min(60.0, float(settings.block_interval)),
                lambda: seal_due(services.instances.list(), services.ledger, due, _now()),
            )
        )
    return jobs


def worker_jobs(services: Services, executor: Executor) -> list[Periodic]:
    return [
        Periodic("promote-retries", PROMOTE_SECONDS, services.queue.promote_due),
        Periodic(
            "reap-runs",
            REAP_SECONDS,
            _logged("tzzr.worker", "run(s) lost their worker; queued again", executor.reap),
        ),
        Periodic(
            "reap-executions",
            REAP_SECONDS,
            _logged("tzzr.worker", "execution(s) queued again", services.alfred.reap),
        ),
        _sweep(services),
    ]


def _now() -> datetime:
    return datetime.now(UTC)


def server_scheduler(services: Services) -> Scheduler:
    return Scheduler(services.engine, server_jobs(services), holder("server"))


def worker_scheduler(services: Services, executor: Executor) -> Scheduler:
    return Scheduler(services.engine, worker_jobs(services, executor), holder("supervisor"))
