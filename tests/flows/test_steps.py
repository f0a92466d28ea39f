"""One step of an execution as a cell run: it runs under its run's timeout (recorded in
the run), and each instance keeps its own copy of a result."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.flows.test_runner import manual_flow, rows, start
from tzzr.db.models import Run
from tzzr.services import Services


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[Services]:
    services = Services.build(make_settings(tmp_path / "home", run_timeout_seconds=0.3))
    services.bootstrap()
    yield services
    services.close()


def test_a_step_runs_under_its_runs_own_timeout(quick: Services) -> None:
    manual_flow(quick, "fast", [{"id": "a", "cell": "test-echo"}])
    manual_flow(quick, "slow", [{"id": "a", "cell": "test-echo", "params": {"sleepS": 5}}])
    (fast,) = start(quick, "fast", 1)
    assert quick.alfred.runner.advance(fast, "w") == "done"
    with quick.engine.connect() as conn:
        recorded = conn.execute(select(Run.timeout_s).where(Run.id == f"{fast}-a")).scalar()
    assert recorded == 0.3  # the step's run carries its timeout
    (slow,) = start(quick, "slow", 1, "s")
    started = time.monotonic()
    assert quick.alfred.runner.advance(slow, "w") == "failed"
    assert time.monotonic() - started < 3  # interrupted at 0.3 s, not after 5
    failed = rows(quick, [slow])[slow]
    assert failed.error["code"] == "timed_out" and failed.error["step"] == "a"
