"""The deployment's periodic jobs (periodic.py): which ones a server and a worker
supervisor register, their names and periods, the ones TZZR_ALERT_INTERVAL=0 and
TZZR_BLOCK_INTERVAL=0 turn off; MASON's sweep under one name in both, so that a server
and a supervisor on one database run it once a period. The scheduler itself is
tests/work/test_scheduler.py's."""

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tzzr import periodic
from tzzr.jobs import REAP_SECONDS as JOB_REAP_SECONDS
from tzzr.services import Services
from tzzr.work.scheduler import Periodic


def build(home: Path, **settings: Any) -> Iterator[Services]:
    services = Services.build(make_settings(home, **settings))
    services.bootstrap()
    yield services
    services.close()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    yield from build(tmp_path / "home", alert_interval=15, block_interval=3600)


def table(jobs: list[Periodic]) -> list[tuple[str, float, bool]]:
    return [(job.name, job.every, job.at_start) for job in jobs]


def test_a_server_runs_the_sweep_alerts_pruning_sealing_and_job_reaping(
    services: Services,
) -> None:
    assert table(periodic.server_jobs(services)) == [
        ("mason-sweep", periodic.SWEEP_SECONDS, True),
        ("reap-jobs", JOB_REAP_SECONDS, True),
        ("sentinel-alerts", 15, False),  # the first evaluation after a period
        ("sentinel-prune", 15, False),
        ("seal", 60.0, True),  # looked at every minute at most; at start, to catch up
    ]


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ({"alert_interval": 0}, ["mason-sweep", "reap-jobs", "seal"]),
        ({"block_interval": 0}, ["mason-sweep", "reap-jobs", "sentinel-alerts", "sentinel-prune"]),
        ({"alert_interval": 0, "block_interval": 0}, ["mason-sweep", "reap-jobs"]),
    ],
)
def test_intervals_of_zero_turn_alerts_and_sealing_off(
    tmp_path: Path, settings: dict[str, Any], names: list[str]
) -> None:
    for services in build(tmp_path / "home", **settings):
        assert [job.name for job in periodic.server_jobs(services)] == names


def test_a_short_block_interval_is_looked_at_as_often(tmp_path: Path) -> None:
    for services in build(tmp_path / "home", block_interval=5):
        (seal,) = [job for job in periodic.server_jobs(services) if job.name == "seal"]
        assert seal.every == 5.0


def test_a_worker_supervisor_promotes_retries_reaps_and_sweeps(services: Services) -> None:
    executor = services.executor("w/supervisor")
    assert table(periodic.worker_jobs(services, executor)) == [
        ("promote-retries", periodic.PROMOTE_SECONDS, True),
        ("reap-runs", periodic.REAP_SECONDS, True),
        ("reap-executions", periodic.REAP_SECONDS, True),
        ("mason-sweep", periodic.SWEEP_SECONDS, True),  # the server's, by the same name
    ]


def test_every_job_runs_on_a_fresh_deployment(services: Services) -> None:
    executor = services.executor("w/supervisor")
    for job in [*periodic.server_jobs(services), *periodic.worker_jobs(services, executor)]:
        job.run()  # nothing to do yet, and nothing fails


def test_a_server_and_a_supervisor_sweep_once_a_period(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    swept: list[str] = []

    def sweep() -> list[str]:
        swept.append("swept")
        return ["one", "two"]

    monkeypatch.setattr(services.mason, "sweep", sweep)
    server = periodic.server_scheduler(services)
    supervisor = periodic.worker_scheduler(services, services.executor("w/supervisor"))
    with caplog.at_level(logging.INFO, logger="tzzr.mason"):
        server.tick()
        supervisor.tick()
    assert swept == ["swept"]  # the supervisor's turn of mason-sweep was taken
    assert "item(s) reached their deadline: 2" in caplog.text
    here = f"{socket.gethostname()}:{os.getpid()}"
    assert server.holder.startswith(f"{here}/server/")
    assert supervisor.holder.startswith(f"{here}/supervisor/")
    server.stop()
    supervisor.stop()
