"""Runs over HTTP: submitting (202 and Location, the same runId again 200), reading,
waiting (bounded), results, cancelling, a cell's health, metrics and logs, registering a
remote cell, and GRACE's asynchronous /grace/run and /grace/status shapes. Runs through
real workers and queues are in tests/runs/."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api, in_process, key_of
from tzzr.queue import run_message

HI = {"type": "bytes", "encoding": "base64", "content": "aGk="}  # b"hi"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(
        tmp_path_factory.mktemp("runs") / "home", remote_allow_hosts=["127.0.0.1"]
    ) as made:
        yield made


def submit(client: TestClient, body: dict[str, Any], cell: str = "test-echo") -> str:
    answer = client.post(f"/api/cells/{cell}/run", json=body)
    assert answer.status_code == 202, answer.text
    run_id: str = answer.json()["runId"]
    return run_id


def execute(api: Api, run_id: str) -> None:
    services, _ = api
    deck = services.instances.get("deck").h_instancia
    services.executor("test").execute(run_message(deck, run_id))


def test_a_run_is_queued_read_and_its_result_fetched(api: Api) -> None:
    _, client = api
    answer = client.post("/api/cells/test-echo/run", json={"input": HI, "params": {"k": 1}})
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    run_id = answer.json()["runId"]
    assert answer.headers["Location"] == f"/api/runs/{run_id}"
    queued = client.get(f"/api/runs/{run_id}").json()
    assert queued["status"] == "queued" and queued["params"] == {"k": 1}
    assert client.get(f"/api/runs/{run_id}/result").status_code == 409
    execute(api, run_id)
    done = client.get(f"/api/runs/{run_id}", params={"wait": 5}).json()
    assert done["status"] == "done" and done["resultUrl"] == f"/blobs/{done['resultHash']}"
    result = client.get(f"/api/runs/{run_id}/result")
    assert result.headers["content-type"] == "application/json"
    assert result.json()["size"] == 2
    assert run_id in {
        r["runId"] for r in client.get("/api/runs", params={"cell": "test-echo"}).json()["runs"]
    }


def test_the_same_run_id_again_is_the_same_run(api: Api) -> None:
    _, client = api
    body = {"runId": "a" * 32, "input": HI}
    assert client.post("/api/cells/test-echo/run", json=body).status_code == 202
    again = client.post("/api/cells/test-echo/run", json=body)
    assert again.status_code == 200 and again.json()["runId"] == "a" * 32


def test_waiting_is_bounded_and_answers_a_queued_run_when_the_time_is_up(api: Api) -> None:
    _, client = api
    run_id = submit(client, {"input": HI})
    assert client.get(f"/api/runs/{run_id}", params={"wait": 61}).status_code == 422
    assert client.get(f"/api/runs/{run_id}", params={"wait": -1}).status_code == 422
    waited = client.get(f"/api/runs/{run_id}", params={"wait": 0.2})
    assert waited.status_code == 200 and waited.json()["status"] == "queued"


def test_bad_submissions_are_refused_naming_the_field(api: Api) -> None:
    _, client = api
    assert client.post("/api/cells/nope/run", json={"input": HI}).status_code == 404
    extra = client.post("/api/cells/test-echo/run", json={"input": HI, "colour": 1})
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "colour"
    bad_id = client.post("/api/cells/test-echo/run", json={"runId": "../x", "input": HI})
    assert bad_id.status_code == 422 and bad_id.json()["error"]["field"] == "runId"
    ingest = key_of(api, "ingest")
    blob = {"input": {**HI, "encoding": "blob", "content": "ab" * 32}}
    assert client.post("/api/cells/test-echo/run", json=blob, headers=ingest).status_code == 403
    assert client.get("/api/runs/nope").status_code == 404


def test_list_filters_and_bounds(api: Api) -> None:
    _, client = api
    submit(client, {"input": HI})
    runs = client.get("/api/runs", params={"status": "queued", "limit": 1}).json()["runs"]
    assert len(runs) == 1 and runs[0]["status"] == "queued"
    bad = client.get("/api/runs", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    assert client.get("/api/runs", params={"limit": 501}).status_code == 422


def test_cancelling_answers_an_ingest_key_with_the_status_only(api: Api) -> None:
    _, client = api
    ingest = key_of(api, "ingest")
    run_id = submit(client, {"input": HI})
    cancelled = client.post(f"/api/runs/{run_id}/cancel", headers=ingest)
    assert cancelled.status_code == 200
    assert cancelled.json() == {"runId": run_id, "status": "cancelled"}
    other = submit(client, {"input": HI})
    full = client.post(f"/api/runs/{other}/cancel").json()
    assert full["status"] == "cancelled" and full["cellId"] == "test-echo"
    assert client.get(f"/api/runs/{run_id}", headers=ingest).status_code == 403


def test_a_cells_health_metrics_and_logs(api: Api) -> None:
    _, client = api
    run_id = submit(client, {"input": HI})
    execute(api, run_id)
    health = client.get("/api/cells/test-echo/health").json()
    assert health["cellId"] == "test-echo" and health["version"] == "1.0.0"
    assert health["status"] == "ok"
    metrics = client.get("/api/cells/test-echo/metrics").json()
    assert metrics["cellId"] == "test-echo" and metrics["runs"]["done"] >= 1
    logs = client.get("/api/cells/test-echo/logs", params={"limit": 500}).json()
    assert logs["cellId"] == "test-echo"
    (mine,) = [log for log in logs["logs"] if log["runId"] == run_id]
    assert mine["status"] == "done" and mine["version"] == "1.0.0" and mine["ts"].endswith("Z")
    assert mine["latencyMs"] is not None and mine["error"] is None
    assert client.get("/api/cells/nope/logs").status_code == 404
    assert client.get("/api/cells/nope/health").status_code == 404
    assert client.get("/api/cells/test-echo/visualization/nope").status_code == 404
    assert client.get("/api/jobs/nope").status_code == 404


def test_an_admin_registers_a_remote_cell_and_its_token_is_not_shown(api: Api) -> None:
    _, client = api
    cell = {
        "id": "far-echo",
        "type": "demo",
        "version": "1.0.0",
        "apiEndpoint": "/api/cells/far-echo/run",
        "microserviceUrl": "http://127.0.0.1:9",
        "module": "FAR_ECHO",
        "accepts": ["text"],
        "token": "s3cret",
    }
    assert (
        client.post("/api/admin/cells", json=cell, headers=key_of(api, "read")).status_code == 403
    )
    created = client.post("/api/admin/cells", json=cell)
    assert created.status_code == 201 and created.headers["Location"] == "/api/cells/far-echo"
    assert created.json()["module"] == "FAR_ECHO" and "s3cret" not in created.text
    assert client.post("/api/admin/cells", json=cell).status_code == 409
    no_types = client.post("/api/admin/cells", json={**cell, "id": "x", "accepts": []})
    assert no_types.status_code == 422 and no_types.json()["error"]["field"] == "accepts"


def envelope(content: str = "aGk=", **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "contract_version": "2.1",
            "routing": {"module": "TEST_ECHO"},
            "payload": {"type": "bytes", "encoding": "base64", "content": content},
        },
        **extra,
    }


def test_grace_run_and_status_in_runpods_shapes(api: Api) -> None:
    _, client = api
    queued = client.post("/grace/run", json=envelope("Z3JhY2U="))  # an input no run had
    assert queued.status_code == 200 and queued.json()["status"] == "IN_QUEUE"
    run_id = queued.json()["id"]
    assert client.get(f"/grace/status/{run_id}").json() == {"id": run_id, "status": "IN_QUEUE"}
    execute(api, run_id)
    done = client.get(f"/grace/status/{run_id}").json()
    assert done["status"] == "COMPLETED" and done["output"]["status"] == "ok"
    assert done["output"]["result"]["size"] == 5
    assert done["executionTime"] == done["output"]["metrics"]["latencyMs"]
    assert client.get("/grace/status/nope").status_code == 404


def test_grace_names_the_envelopes_field_for_a_bad_id_or_payload(api: Api) -> None:
    _, client = api
    bad_id = client.post("/grace/run", json=envelope(id="../x"))
    assert bad_id.status_code == 422 and bad_id.json()["error"]["field"] == "id"
    long_type = envelope()
    long_type["input"]["payload"]["type"] = "t" * 65
    bad_type = client.post("/grace/run", json=long_type)
    assert bad_type.status_code == 422 and bad_type.json()["error"]["field"] == "input.payload"
    unknown = envelope()
    unknown["input"]["routing"]["module"] = "TELEPATHY"
    assert client.post("/grace/run", json=unknown).status_code == 404
    again = client.post("/grace/run", json=envelope(id="b" * 32))
    assert again.json()["id"] == "b" * 32
