"""Specialization jobs (a new cell version with a prompt and defaults, checked against
the cell's test cases and constraints) and visualization samples."""

import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import Live, make_settings, running
from tzzr import samples
from tzzr.cells.base import CellContext, CellFailed, Payload


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("spec") / "home")) as server:
        yield server


def wait_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_specializing_makes_a_new_version_and_reports_the_constraints(live: Live) -> None:
    prompt = "Read Spanish till receipts; keep amounts with decimal commas."
    with live.client() as client:
        started = client.post(
            "/api/cells/ocr-core/specialize",
            json={"prompt": prompt, "constraints": {"latencyMs": 60000, "maxGpuMemoryMb": 512}},
        )
        assert started.status_code == 202, started.text
        job = wait_job(client, started.json()["jobId"])
        assert job["status"] == "done", job
        result = job["result"]
        assert result["version"] == "1.2.0" and result["from"] == "1.1.0"
        assert job["progress"] == {"done": 1, "total": 1, "step": "test case receipt-es"}
        (case,) = result["testCases"]
        assert case["ok"] and case["missing"] == [] and case["latencyMs"] > 0
        checks = {c["name"]: c for c in result["constraints"]}
        assert checks["latencyMs"]["holds"] and checks["latencyMs"]["measured"] == case["latencyMs"]
        assert checks["maxGpuMemoryMb"] == {
            **checks["maxGpuMemoryMb"],
            "measured": 0.0,
            "holds": True,
        }
        assert result["allHold"] is True
        cell = client.get("/api/cells/ocr-core").json()
        assert cell["version"] == "1.2.0" and cell["iaSpecializationPrompt"] == prompt
        assert cell["versions"] == ["1.1.0", "1.2.0"]

        tight = client.post(
            "/api/cells/ocr-core/specialize",
            json={"prompt": "faster", "constraints": {"latencyMs": 0.001}},
        )
        tight_job = wait_job(client, tight.json()["jobId"])
        assert tight_job["result"]["version"] == "1.3.0"
        assert tight_job["result"]["constraints"][0]["holds"] is False
        assert tight_job["result"]["allHold"] is False


def test_a_specialized_version_runs_with_its_defaults(live: Live) -> None:
    with live.client() as client:
        job = wait_job(
            client,
            client.post(
                "/api/cells/test-echo/specialize",
                json={
                    "prompt": "refuse everything",
                    "params": {"fail": "input"},
                    "version": "2.0.0",
                },
            ).json()["jobId"],
        )
    assert job["status"] == "done" and job["result"]["defaults"] == {"fail": "input"}
    catalog = live.services.catalog
    deck = live.services.instances.get("deck").h_instancia
    with pytest.raises(CellFailed, match="refused"):
        catalog.get(deck, "test-echo", "2.0.0").run(CellContext("r"), Payload("bytes", b"x"))
    plain = catalog.get(deck, "test-echo", "1.0.0").run(CellContext("r"), Payload("bytes", b"x"))
    assert plain.result["size"] == 1


def test_specialize_requests_are_checked(live: Live) -> None:
    with live.client() as client:
        unknown = client.post(
            "/api/cells/ocr-core/specialize", json={"prompt": "p", "constraints": {"fps": 60}}
        )
        assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "constraints"
        assert "latencyMs" in unknown.json()["error"]["message"]
        empty = client.post("/api/cells/ocr-core/specialize", json={"prompt": ""})
        assert empty.status_code == 422 and empty.json()["error"]["field"] == "prompt"
        assert client.post("/api/cells/nope/specialize", json={"prompt": "p"}).status_code == 404
        older = client.post(
            "/api/cells/test-noop/specialize", json={"prompt": "p", "version": "0.9.0"}
        )
        job = wait_job(client, older.json()["jobId"])
        assert job["status"] == "failed" and "not newer" in job["error"]["message"]
        assert client.get("/api/jobs/nope").status_code == 404
    key, _ = live.services.keys.create("deck", "ingest")
    forbidden = httpx.post(
        f"{live.url}/api/cells/ocr-core/specialize",
        json={"prompt": "p"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert forbidden.status_code == 403


def test_visualization_samples_are_rendered(live: Live) -> None:
    with live.client() as client:
        first = client.get("/api/cells/ocr-core/visualization/receipt")
        assert first.status_code == 200 and first.headers["content-type"] == "image/png"
        drawn = Image.open(io.BytesIO(first.content)).convert("RGB")
        original = Image.open(io.BytesIO(samples.read("receipt.png")))
        assert drawn.size == original.size
        # the word boxes are drawn in colour on a grey-scale receipt
        assert any(len(set(pixel)) > 1 for pixel in drawn.get_flattened_data())  # type: ignore[arg-type]
        assert client.get("/api/cells/ocr-core/visualization/receipt").content == first.content
        missing = client.get("/api/cells/ocr-core/visualization/nope")
        assert missing.status_code == 404 and "receipt" in missing.json()["error"]["message"]
