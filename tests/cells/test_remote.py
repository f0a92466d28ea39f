"""A remote cell: `tzzr grace serve` in its own process, registered over HTTP, and run
through the queue by a real worker; a GRACE box is just another cell."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import running
from tests.e2e.conftest import free_port
from tests.runs.conftest import Shape, settings_for, shape_env, submit, wait_for, worker_process

TOKEN = "s3cret-grace-token"


@pytest.fixture(scope="module")
def grace_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("grace") / "grace.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "grace", "serve", "--port", str(port), "--token", TOKEN],
            env={**os.environ, "TZZR_TEST_CELLS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/grace/health", timeout=1).status_code in (200, 401):
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    yield url
    process.send_signal(signal.SIGTERM)
    process.wait(15)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shape]:
    home = tmp_path_factory.mktemp("remote")
    # The GRACE here is on loopback over http: only a host the operator lists may be.
    env = {**shape_env("sqlite", home), "TZZR_REMOTE_ALLOW_HOSTS": "127.0.0.1"}
    with running(settings_for(env)) as live, worker_process(env, home / "worker.log"):
        yield Shape(live, env, "sqlite")


def registration(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "gpu-echo",
        "type": "test",
        "version": "1.0.0",
        "apiEndpoint": "/api/cells/gpu-echo/run",
        "microserviceUrl": url,
        "module": "TEST_ECHO",
        "accepts": ["bytes"],
        "token": TOKEN,
        **extra,
    }


def test_a_registered_remote_cell_runs_through_the_queue(server: Shape, grace_url: str) -> None:
    with server.client() as client:
        created = client.post("/api/admin/cells", json=registration(grace_url))
        assert created.status_code == 201, created.text
        assert "token" not in created.json() and created.json()["microserviceUrl"] == grace_url
        listed = {c["id"] for c in client.get("/api/cells").json()["cells"]}
        assert {"gpu-echo", "ocr-core", "asr-engine"} <= listed
        health = client.get("/api/cells/gpu-echo/health").json()
        assert health["status"] == "ok" and health["reason"] == "answered 200"
        assert "detail" not in health  # the remote's body is never passed on
        data = os.urandom(2048)
        run = wait_for(client, submit(client, data, cell="gpu-echo"), ("done", "failed"))
        assert run["status"] == "done", run
        result = client.get(f"/api/runs/{run['runId']}/result").json()
        assert result == {"sha256": hashlib.sha256(data).hexdigest(), "size": 2048}
        assert run["metrics"]["engine"] == "echo"
        refused = wait_for(
            client, submit(client, b"x", {"fail": "input"}, cell="gpu-echo"), ("done", "failed")
        )
        assert refused["status"] == "failed" and refused["attempt"] == 1
        assert "refused" in refused["error"]["message"]


def test_a_remote_that_refuses_the_token_fails_the_run(server: Shape, grace_url: str) -> None:
    with server.client() as client:
        body = registration(grace_url, id="bad-token", token="wrong")
        assert client.post("/api/admin/cells", json=body).status_code == 201
        run = wait_for(client, submit(client, b"t", cell="bad-token"), ("done", "failed"))
    assert run["status"] == "failed" and "401" in run["error"]["message"]


def test_an_unreachable_remote_is_retried_then_failed(server: Shape) -> None:
    with server.client() as client:
        body = registration(f"http://127.0.0.1:{free_port()}", id="gone")
        assert client.post("/api/admin/cells", json=body).status_code == 201
        health = client.get("/api/cells/gone/health").json()
        assert health["status"] == "down" and health["reason"] == "connection refused"
        run = wait_for(client, submit(client, b"u", cell="gone"), ("done", "failed"), 30)
    assert run["status"] == "failed" and run["attempt"] == 3
    assert run["error"]["code"] == "error"
    assert "did not answer: connection refused" in run["error"]["message"]


def test_registration_is_checked(server: Shape, grace_url: str) -> None:
    with server.client() as client:
        bad_semver = client.post(
            "/api/admin/cells", json=registration(grace_url, id="v", version="1.0")
        )
        assert bad_semver.status_code == 422 and bad_semver.json()["error"]["field"] == "version"
        local = client.post("/api/admin/cells", json=registration("", id="local-code"))
        assert local.status_code == 422 and local.json()["error"]["field"] == "microserviceUrl"
        installed = client.post("/api/admin/cells", json=registration(grace_url, id="ocr-core"))
        assert installed.status_code == 409
        body = registration(grace_url, id="twice")
        assert client.post("/api/admin/cells", json=body).status_code == 201
        assert client.post("/api/admin/cells", json=body).status_code == 409
        newer = client.post("/api/admin/cells", json={**body, "version": "1.1.0"})
        assert newer.status_code == 201
        assert client.get("/api/cells/twice").json()["version"] == "1.1.0"
        no_accepts = client.post(
            "/api/admin/cells", json=registration(grace_url, id="n", accepts=[])
        )
        assert no_accepts.status_code == 422 and no_accepts.json()["error"]["field"] == "accepts"
        services = server.live.services
        key, _ = services.keys.create("deck", "ingest")
        forbidden = httpx.post(
            f"{server.live.url}/api/admin/cells",
            json=registration(grace_url, id="x"),
            headers={"Authorization": f"Bearer {key}"},
        )
        assert forbidden.status_code == 403
