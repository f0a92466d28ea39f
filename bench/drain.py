"""Shared by the queue benchmarks: start `tzzr worker` processes on work queued
beforehand, and time them from the first item done to the last (start-up excluded)."""

import os
import signal
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import Engine, func, select


def seconds_each(
    engine: Engine, status: Any, total: int, workers: int, env: dict[str, str], poll: float
) -> float:
    """Seconds per item while `workers` worker processes drain `total` queued items,
    counted as rows whose `status` column is `done`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tzzr", "worker", "--concurrency", str(workers)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first: float | None = None
        at_first = 0
        with engine.connect() as conn:
            while True:
                done = conn.execute(
                    select(func.count()).select_from(status.table).where(status == "done")
                ).scalar_one()
                if first is None and done > 0:
                    first, at_first = time.perf_counter(), done
                if done >= total:
                    break
                time.sleep(poll)
                conn.rollback()
        assert first is not None
        return (time.perf_counter() - first) / max(1, total - at_first)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
