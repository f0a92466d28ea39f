"""The whole pipeline over HTTP on both deployment shapes: embedded (SQLite, local
blobs, the SQLite queue, one worker) and scale-out (PostgreSQL, an S3 API server, Redis,
two separate `tzzr worker` processes). A receipt goes capture -> OCR -> OK -> block; a
blank photo goes to MASON, is enriched and then sealed; flows are managed over HTTP."""

import io
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.runs.conftest import Shape, shape_server, worker_process
from tzzr import samples

SHAPES = {"embedded": ("sqlite", 1), "scale-out": ("scaleout", 2)}
ECHO_FLOW = b"""
id: echo-chain
description: three cells, each fed by the one before
trigger:
  on: ingest
  match: {mediaType: [application/x-tzzr-test]}
steps:
  - {id: a, cell: test-echo}
  - {id: b, cell: test-echo, params: {from_a: "${a.sha256}"}}
  - {id: c, cell: test-echo, params: {size_of_a: "${a.size}", note: "after ${b.sha256}"}}
decision: a.size > 0 and b.sha256 == a.sha256
"""


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shape(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shape]:
    kind, workers = SHAPES[request.param]
    home = tmp_path_factory.mktemp(request.param)
    with ExitStack() as stack:
        server = stack.enter_context(shape_server(kind, home))
        server.live.services.flows.install_defaults(
            server.live.services.instances.get("deck").h_instancia
        )
        for n in range(workers):  # separate processes, as on separate machines
            stack.enter_context(worker_process(server.env, home / f"worker{n}.log"))
        yield server


def ingest(
    client: httpx.Client, name: str, data: bytes, media: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    response = client.post(
        "/ingest", data={"metadata": json.dumps(metadata)}, files={"file": (name, data, media)}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_state(
    client: httpx.Client, h: str, states: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        entry: dict[str, Any] = client.get(f"/entries/{h}").json()
        if entry["state"] in states:
            return entry
        assert time.monotonic() < deadline, entry
        time.sleep(0.05)


def blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (400, 200), 255).save(out, format="PNG")
    return out.getvalue()


def test_a_receipt_is_read_decided_ok_and_sealed(shape: Shape) -> None:
    with shape.client() as client:
        captured = ingest(
            client, "receipt.png", samples.read("receipt.png"), "image/png", {"lang": "es"}
        )
        assert captured["state"] == "processing"
        h = captured["h_entrada"]
        assert wait_state(client, h, ("consolidated", "enriching"))["state"] == "consolidated"
        (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
        assert execution["flow"] == "receipt-ocr" and execution["status"] == "done"
        assert execution["decision"]["outcome"] == "ok" and execution["decision"]["value"] is True
        step = execution["steps"][0]
        assert step["status"] == "done" and "8,70" in step["output"]["text"] and step["ms"] > 0
        run = client.get(f"/api/runs/{step['runId']}").json()
        assert run["status"] == "done" and run["leafIndex"] is not None
        block = client.post("/consolidate").json()["block"]
        assert block is not None
        assert client.get(f"/receipt/{h}").status_code == 200


def test_an_incident_waits_in_mason_until_enriched(shape: Shape) -> None:
    with shape.client() as client:
        h = ingest(client, "blank.png", blank_png(), "image/png", {"n": time.time()})["h_entrada"]
        assert wait_state(client, h, ("consolidated", "enriching"))["state"] == "enriching"
        pending = client.get("/enrich", params={"state": "pending"}).json()["items"]
        assert h in [item["h_entrada"] for item in pending]
        item = client.get(f"/enrich/{h}").json()
        assert item["state"] == "pending" and 86000 < item["secondsLeft"] <= 86400
        assert (
            "ocr" in item["results"] and item["schema"]["properties"]["amount"]["type"] == "number"
        )
        assert "was not met" in item["reason"]
        assert client.get(f"/receipt/{h}").status_code == 404  # not sealed while enriching
        client.post("/consolidate")
        assert client.get(f"/receipt/{h}").status_code == 404
        bad = client.put(f"/enrich/{h}", json={"fields": {"amount": "twelve"}})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "fields.amount"
        extra = client.put(f"/enrich/{h}", json={"fields": {"colour": "red"}})
        assert extra.status_code == 422 and extra.json()["error"]["field"] == "fields.colour"
        done = client.put(f"/enrich/{h}", json={"fields": {"amount": 12.5, "currency": "EUR"}})
        assert done.status_code == 200 and done.json()["state"] == "enriched"
        assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
        again = client.put(f"/enrich/{h}", json={"fields": {"amount": 13.0, "currency": "EUR"}})
        assert again.status_code == 200
        history = client.get(f"/enrich/{h}").json()["history"]
        assert [v["fields"]["amount"] for v in history] == [12.5, 13.0]  # append-only
        assert all(v["leafIndex"] is not None for v in history)
        client.post("/consolidate")
        assert client.get(f"/receipt/{h}").status_code == 200


def test_flows_are_managed_and_run_over_http(shape: Shape) -> None:
    with shape.client() as client:
        client.delete("/flows/echo-chain")  # the other shape's module may have left it
        created = client.post(
            "/flows", content=ECHO_FLOW, headers={"Content-Type": "application/yaml"}
        )
        assert created.status_code == 201, created.text
        assert created.json()["version"] >= 1
        assert (
            client.post(
                "/flows", content=ECHO_FLOW, headers={"Content-Type": "application/yaml"}
            ).status_code
            == 409
        )
        h = ingest(
            client, "t.bin", b"payload " + str(time.time()).encode(), "application/x-tzzr-test", {}
        )["h_entrada"]
        assert wait_state(client, h, ("consolidated", "enriching"))["state"] == "consolidated"
        (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
        a, b, c = execution["steps"]
        assert b["output"]["sha256"] == a["output"]["sha256"]
        run_c = client.get(f"/api/runs/{c['runId']}").json()
        assert run_c["params"] == {
            "size_of_a": a["output"]["size"],
            "note": f"after {b['output']['sha256']}",
        }
        # a new version; the old one stays readable
        v1 = client.get("/flows/echo-chain").json()["version"]
        updated = client.put(
            "/flows/echo-chain",
            content=ECHO_FLOW.replace(b"decision: a.size > 0", b"decision: a.size > 1000000"),
            headers={"Content-Type": "application/yaml"},
        )
        assert updated.status_code == 200 and updated.json()["version"] == v1 + 1
        assert (
            "1000000"
            not in client.get("/flows/echo-chain", params={"version": v1}).json()["spec"][
                "decision"
            ]
        )
        executed = client.post(
            "/execute",
            json={
                "flow": "echo-chain",
                "input": {"type": "bytes", "encoding": "base64", "content": "aGk="},
            },
        )
        assert executed.status_code == 202
        deadline = time.monotonic() + 30
        while (run := client.get(f"/executions/{executed.json()['executionId']}").json())[
            "status"
        ] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert (
            run["status"] == "done"
            and run["outcome"] == "incident"
            and run["flowVersion"] == v1 + 1
        )
        bad = client.put("/flows/echo-chain", json={"id": "echo-chain", "decision": "a.size >"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "decision"
        assert (
            client.post(
                "/execute",
                json={
                    "flow": "nope",
                    "input": {"type": "bytes", "encoding": "base64", "content": ""},
                },
            ).status_code
            == 404
        )
        both = client.post("/execute", json={"flow": "echo-chain"})
        assert both.status_code == 422
        assert client.delete("/flows/echo-chain").status_code == 204
        assert client.get("/flows/echo-chain").status_code == 404
        ids = [f["id"] for f in client.get("/flows").json()["flows"]]
        assert {"receipt-ocr", "voice-note", "anything-else"} <= set(
            ids
        ) and "echo-chain" not in ids


def test_anything_else_is_consolidated_at_once(shape: Shape) -> None:
    with shape.client() as client:
        captured = ingest(
            client, "notes.txt", b"a plain note " + str(time.time()).encode(), "text/plain", {}
        )
        assert captured["state"] == "received"
        assert (
            client.get("/executions", params={"h_entrada": captured["h_entrada"]}).json()[
                "executions"
            ]
            == []
        )
