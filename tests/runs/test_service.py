"""The queue with real worker processes, on both backends: results as blobs with an
attestation leaf, reuse of identical runs, failures that never kill the worker,
retries with back-off, time limits, and leases after a kill -9."""

import base64
import itertools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.runs.conftest import (
    SHAPES,
    Shape,
    kill_9,
    own_instance,
    shape_server,
    submit,
    wait_for,
    worker_process,
)
from tzzr.db.models import LedgerLeaf

INSTANCE = "runs-service"


@pytest.fixture(scope="module", params=SHAPES)
def shape(request: pytest.FixtureRequest, shared_shape: Callable[[str], Shape]) -> Shape:
    """The shared server of the shape and its worker of two processes, in an instance of
    this module's own."""
    return own_instance(shared_shape(request.param), INSTANCE)


def test_a_run_stores_its_result_and_an_attestation_leaf(shape: Shape) -> None:
    data = os.urandom(1000)
    with shape.client() as client:
        run_id = submit(client, data)
        run = wait_for(client, run_id, ("done", "failed"))
        assert run["status"] == "done", run
        expected = {"sha256": __import__("hashlib").sha256(data).hexdigest(), "size": 1000}
        assert client.get(f"/api/runs/{run_id}/result").json() == expected
        blob = client.get(run["resultUrl"])
        assert blob.status_code == 200 and json.loads(blob.content) == expected
        assert run["metrics"]["engine"] == "echo"
        assert run["metrics"]["latencyMs"] >= 0 and run["attempt"] == 1
        assert run["input"]["sha256"] == expected["sha256"]
    services = shape.live.services
    h = services.instances.get(INSTANCE).h_instancia
    with services.engine.connect() as conn:
        leaf = conn.execute(
            select(LedgerLeaf.kind, LedgerLeaf.data).where(
                LedgerLeaf.h_instancia == h, LedgerLeaf.idx == run["leafIndex"]
            )
        ).one()
    record = json.loads(leaf.data)
    assert leaf.kind == "attestation"
    assert record["ref"] == run_id and record["hash"] == run["resultHash"]
    assert record["cell"] == "test-echo" and record["version"] == "1.0.0"
    assert record["input"] == expected["sha256"] and record["params"] == run["paramsHash"]


def test_an_identical_run_returns_the_stored_result(shape: Shape, tmp_path: Path) -> None:
    data = os.urandom(500)
    marks = tmp_path / "marks"
    with shape.client() as client:
        first = wait_for(client, submit(client, data, {"markDir": str(marks)}), ("done",))
        second_id = submit(client, data, {"markDir": str(marks)})
        second = client.get(f"/api/runs/{second_id}").json()
        assert second["status"] == "done"  # at once, without the queue
        assert second["reusedFrom"] == first["runId"]
        assert second["resultHash"] == first["resultHash"] and second["metrics"]["reused"]
        # other params are another run
        third = wait_for(client, submit(client, data, {"markDir": str(marks), "x": 1}), ("done",))
        assert third["reusedFrom"] is None
    assert len(list(marks.iterdir())) == 2  # the cell ran twice, not three times


def test_a_failing_run_never_stops_the_worker(shape: Shape) -> None:
    with shape.client() as client:
        failed = wait_for(client, submit(client, b"x", {"fail": "input"}), ("failed", "done"))
        assert failed["status"] == "failed" and failed["attempt"] == 1  # input errors: no retry
        assert failed["error"]["message"] == "the test input is refused, as asked"
        assert failed["error"]["field"] == "params.fail"
        after = wait_for(client, submit(client, b"y"), ("done", "failed"))
        assert after["status"] == "done"


def test_a_transient_error_is_retried_with_back_off(shape: Shape, tmp_path: Path) -> None:
    with shape.client() as client:
        params = {"fail": "flaky", "succeedOn": 3, "markDir": str(tmp_path / "m")}
        run = wait_for(client, submit(client, os.urandom(8), params), ("done", "failed"))
    assert run["status"] == "done" and run["attempt"] == 3, run
    stamps = sorted(int(p.name.rsplit(".", 1)[1]) for p in (tmp_path / "m").iterdir())
    gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(stamps)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # 0.1 s, then 0.2 s


def test_a_run_over_its_time_limit_is_timed_out(shape: Shape) -> None:
    with shape.client() as client:
        started = time.monotonic()
        run = wait_for(
            client, submit(client, os.urandom(8), {"sleepS": 30}), ("timed_out", "done", "failed")
        )
        assert run["status"] == "timed_out", run
        assert time.monotonic() - started < 15
        assert "4 s limit" in run["error"]["message"]
        assert wait_for(client, submit(client, b"z"), ("done", "failed"))["status"] == "done"


def test_a_run_that_kills_its_process_fails_after_its_attempts(shape: Shape) -> None:
    with shape.client() as client:
        run = wait_for(
            client, submit(client, os.urandom(8), {"fail": "crash"}), ("failed", "done"), 60
        )
        assert run["status"] == "failed" and run["attempt"] == 3
        assert run["error"]["code"] == "worker_lost"
        assert (
            wait_for(client, submit(client, os.urandom(8)), ("done", "failed"))["status"] == "done"
        )


def test_two_worker_processes_share_the_work(shape: Shape) -> None:
    with shape.client() as client:
        ids = [submit(client, os.urandom(16), {"sleepS": 0.2}) for _ in range(12)]
        runs = [wait_for(client, run_id, ("done", "failed")) for run_id in ids]
    assert all(r["status"] == "done" for r in runs)
    assert len({r["metrics"]["worker"] for r in runs}) == 2


def test_kill_9_mid_run_requeues_and_completes_once(tmp_path: Path) -> None:
    for name in ("sqlite", "redis"):
        home = tmp_path / name
        with shape_server(name, home) as server, server.client() as client:
            marks = tmp_path / f"marks-{name}"
            with worker_process(server.env, home / "w1.log") as first:
                run_id = submit(client, os.urandom(32), {"sleepS": 2, "markDir": str(marks)})
                wait_for(client, run_id, ("running",))
                deadline = time.monotonic() + 20
                while not (marks.exists() and any(marks.iterdir())):  # the cell is at work
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                kill_9(first)
            assert client.get(f"/api/runs/{run_id}").json()["status"] == "running"
            with worker_process(server.env, home / "w2.log"):
                run = wait_for(client, run_id, ("done", "failed"), 30)
            assert run["status"] == "done" and run["attempt"] == 2, run
            assert run["error"] is None or run["error"]["code"] == "worker_lost"
            assert len(list(marks.iterdir())) == 2  # started twice, finished once
            with server.live.services.engine.connect() as conn:
                leaves = conn.execute(
                    select(LedgerLeaf.idx).where(
                        LedgerLeaf.kind == "attestation", LedgerLeaf.ref == run_id
                    )
                ).all()
            assert len(leaves) == 1


def test_a_cancelled_run_is_never_executed(tmp_path: Path) -> None:
    with shape_server("sqlite", tmp_path / "home") as server, server.client() as client:
        marks = tmp_path / "marks"
        run_id = submit(client, b"c", {"markDir": str(marks)})
        cancelled = client.post(f"/api/runs/{run_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert client.post(f"/api/runs/{run_id}/cancel").status_code == 409
        later = submit(client, b"d")
        with worker_process(server.env, tmp_path / "w.log"):
            assert wait_for(client, later, ("done",))["status"] == "done"
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "cancelled"
        assert not marks.exists()
        result = client.get(f"/api/runs/{run_id}/result")
        assert result.status_code == 409


def test_bad_submissions_are_refused_with_what_to_fix(
    shared_shape: Callable[[str], Shape],
) -> None:
    with own_instance(shared_shape("sqlite"), "runs-refused").client() as client:
        unknown = client.post(
            "/api/cells/nope/run",
            json={"input": {"type": "bytes", "encoding": "base64", "content": ""}},
        )
        assert unknown.status_code == 404 and "ocr-core" in unknown.json()["error"]["message"]
        wrong = client.post(
            "/api/cells/ocr-core/run",
            json={"input": {"type": "audio", "encoding": "base64", "content": ""}},
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "input.type"
        bad = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "base64", "content": "!!"}},
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "input.content"
        missing = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "blob", "content": "0" * 64}},
        )
        assert missing.status_code == 404
        url = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "url", "content": "http://x"}},
        )
        assert url.status_code == 422 and url.json()["error"]["field"] == "input.encoding"
        no_input = client.post("/api/cells/test-echo/run", json={"params": {}})
        assert no_input.status_code == 422 and no_input.json()["error"]["field"] == "input"
        run_id = submit(client, b"a", runId="my-run-1")
        assert run_id == "my-run-1"
        again = client.post(
            "/api/cells/test-echo/run",
            json={
                "runId": "my-run-1",
                "input": {
                    "type": "bytes",
                    "encoding": "base64",
                    "content": base64.b64encode(b"a").decode(),
                },
            },
        )
        assert again.status_code == 200 and again.json()["runId"] == "my-run-1"
        clash = client.post(
            "/api/cells/test-echo/run",
            json={
                "runId": "my-run-1",
                "params": {"x": 2},
                "input": {"type": "bytes", "encoding": "base64", "content": "YQ=="},
            },
        )
        assert clash.status_code == 409
        assert client.get("/api/runs/nope").status_code == 404
        big = client.post(
            "/api/cells/test-echo/run",
            content=b'{"input": {"type": "bytes", "encoding": "base64", "content": "'
            + b"A" * (33 * 1024 * 1024)
            + b'"}}',
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413


def test_grace_run_and_status_use_runpods_shapes(shape: Shape) -> None:
    data = os.urandom(64)
    envelope = {
        "contract_version": "2.1",
        "routing": {"module": "TEST_ECHO"},
        "payload": {
            "type": "bytes",
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
        },
        "context": {"lang": "en"},
    }
    with shape.client() as client:
        queued = client.post("/grace/run", json={"input": envelope})
        assert queued.status_code == 200 and queued.json()["status"] == "IN_QUEUE"
        run_id = queued.json()["id"]
        wait_for(client, run_id, ("done", "failed"))
        status = client.get(f"/grace/status/{run_id}").json()
        assert status["status"] == "COMPLETED", status
        assert status["output"]["result"]["size"] == 64 and status["output"]["status"] == "ok"
        assert status["output"]["metrics"]["engine"] == "echo"
        unknown = client.post(
            "/grace/run", json={"input": {**envelope, "routing": {"module": "NOPE"}}}
        )
        assert unknown.status_code == 404 and "TEST_ECHO" in unknown.json()["error"]["message"]
        failing = client.post(
            "/grace/run", json={"input": {**envelope, "params": {"fail": "input"}}}
        ).json()["id"]
        wait_for(client, failing, ("done", "failed"))
        failed = client.get(f"/grace/status/{failing}").json()
        assert failed["status"] == "FAILED" and "refused" in failed["error"]
        assert client.get("/grace/status/nope").status_code == 404


def test_a_render_run_stores_its_artifacts(shape: Shape) -> None:
    import hashlib
    import io

    from PIL import Image

    with shape.client() as client:
        bad = client.post("/api/cells/render-4d-hypercube/run", json={"params": {"size": 8}})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "params.size"
        plane = client.post(
            "/api/cells/render-3d-holocube/run", json={"params": {"speeds": {"zw": 1}}}
        )
        assert plane.status_code == 422 and plane.json()["error"]["field"] == "params.speeds"
        params = {"size": 128, "frames": 8, "outputs": ["png", "webp", "json"]}
        queued = client.post("/api/cells/render-4d-hypercube/run", json={"params": params})
        assert queued.status_code == 202, queued.text
        run = wait_for(client, queued.json()["runId"], ("done", "failed"))
        assert run["status"] == "done", run
        assert run["metrics"]["fps"] > 0 and run["metrics"]["latencyMs"] > 0
        assert run["input"]["type"] == "none"
        artifacts = client.get(f"/api/runs/{run['runId']}/result").json()["artifacts"]
        assert set(artifacts) == {"frame.png", "animation.webp", "geometry.json"}
        webp = client.get(artifacts["animation.webp"]["url"])
        assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"
        assert hashlib.sha256(webp.content).hexdigest() == artifacts["animation.webp"]["sha256"]
        with Image.open(io.BytesIO(webp.content)) as image:
            assert getattr(image, "n_frames", 1) == 8 and image.size == (128, 128)
        shape_json = client.get(artifacts["geometry.json"]["url"]).json()
        assert len(shape_json["edges"]) == 32 and len(shape_json["frames"]) == 8
        again = client.post("/api/cells/render-4d-hypercube/run", json={"params": params}).json()
        assert again["status"] == "done"  # the same parameters: the stored result
