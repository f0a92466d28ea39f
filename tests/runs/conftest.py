"""Real worker processes (`python -m tzzr worker`) beside a real server, on the SQLite
queue (embedded shape) and the Redis queue with PostgreSQL (scale-out shape)."""

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, need, postgres_database, running, s3_settings
from tzzr.config import Settings

SHAPES = ["sqlite", "redis"]
FAST = {
    "TZZR_RUN_LEASE_SECONDS": "1.5",
    "TZZR_RUN_RETRY_SECONDS": "0.1",
    "TZZR_RUN_TIMEOUT_SECONDS": "4",
    "TZZR_RUN_MAX_ATTEMPTS": "3",
}


def shape_env(shape: str, home: Path) -> dict[str, str]:
    env = {"TZZR_HOME": str(home), "TZZR_QUEUE_NAME": f"t{uuid.uuid4().hex[:10]}", **FAST}
    if shape in ("redis", "scaleout"):
        env["TZZR_QUEUE_URL"] = need("TZZR_TEST_REDIS_URL", "Redis")
        env["TZZR_DATABASE_URL"] = postgres_database()
    if shape == "scaleout":  # PostgreSQL, Redis and an S3 API server: many machines
        env.update({f"TZZR_{key.upper()}": value for key, value in s3_settings().items()})
    return env


def settings_for(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {
        key.removeprefix("TZZR_").lower(): value for key, value in env.items()
    }
    return Settings(**values)


@contextmanager
def worker_process(
    env: dict[str, str], log: Path, concurrency: int = 1
) -> Iterator[subprocess.Popen[bytes]]:
    """`tzzr worker` in its own session, so that kill -9 can take all its processes."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "worker", "--concurrency", str(concurrency)],
            env={**os.environ, **env, "TZZR_TEST_CELLS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def kill_9(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@dataclass
class Shape:
    live: Live
    env: dict[str, str]
    name: str

    def client(self) -> httpx.Client:
        return self.live.client()


@contextmanager
def shape_server(shape: str, home: Path) -> Iterator[Shape]:
    env = shape_env(shape, home)
    with running(settings_for(env)) as live:
        yield Shape(live, env, shape)


def own_instance(shape: Shape, name: str) -> Shape:
    """The same server and worker, as seen by an admin of a new instance of its own: a
    module's runs, entries and ledger apart from every other module's."""
    services = shape.live.services
    services.add_instance(name, default_flows=False)
    key, _ = services.keys.create(name, "admin")
    return Shape(Live(shape.live.url, services, key), shape.env, shape.name)


@pytest.fixture(scope="package")
def shared_shape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Shape]]:
    """A server per shape with a worker of two processes, each started once for the
    modules of tests/runs that need no server or worker of their own (each module in its
    own instance, by `own_instance`), and stopped after them; a test that kills its
    worker, or wants none, starts its own by `shape_server`."""
    started: dict[str, Shape] = {}
    with ExitStack() as stack:

        def get(name: str) -> Shape:
            if name not in started:
                home = tmp_path_factory.mktemp(f"shared-{name}")
                server = stack.enter_context(shape_server(name, home))
                stack.enter_context(worker_process(server.env, home / "worker.log", concurrency=2))
                started[name] = server
            return started[name]

        yield get


def submit(
    client: httpx.Client,
    data: bytes,
    params: dict[str, Any] | None = None,
    cell: str = "test-echo",
    expect: int = 202,
    **extra: Any,
) -> str:
    response = client.post(
        f"/api/cells/{cell}/run",
        json={
            "input": {
                "type": "bytes",
                "encoding": "base64",
                "content": base64.b64encode(data).decode(),
            },
            "params": params or {},
            **extra,
        },
    )
    assert response.status_code == expect, response.text
    run_id: str = response.json()["runId"]
    return run_id


def wait_for(
    client: httpx.Client, run_id: str, statuses: tuple[str, ...], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in statuses:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} is still {run['status']}: {run}")
        time.sleep(0.05)
