"""Specialization jobs: rounds in THE FACTORY that propose parameter sets (Optuna over the
cell's numeric parameters here: no model is configured), measure each against the cell's
test cases and constraints, and publish the best that meets them; and visualization
samples."""

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
            json={
                "prompt": prompt,
                "constraints": {"latencyMs": 60000, "maxGpuMemoryMb": 512},
                "rounds": 2,
            },
        )
        assert started.status_code == 202, started.text
        job = wait_job(client, started.json()["jobId"])
        assert job["status"] == "done", job
        result = job["result"]
        assert result["version"] == "1.2.0" and result["from"] == "1.1.0"
        assert result["published"] is True and result["planner"].startswith("optuna")
        assert job["progress"] == {"done": 2, "total": 2, "step": "choosing the best round"}
        assert [r["number"] for r in result["rounds"]] == [1, 2]
        assert result["rounds"][0]["params"] == {}  # round 1: the request's own params
        assert set(result["rounds"][1]["params"]) == {"psm"}  # OCR_CORE's numeric one
        assert result["rounds"][1]["params"]["psm"] in (3, 4, 6, 11)
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
        best = result["rounds"][result["best"] - 1]
        assert result["defaults"] == best["params"]
        record = client.get(result["record"]).json()
        assert [r["number"] for r in record["rounds"]] == [1, 2]
        assert record["rounds"][1]["draft"]["params"] == result["rounds"][1]["params"]

        tight = client.post(
            "/api/cells/ocr-core/specialize",
            json={"prompt": "faster", "constraints": {"latencyMs": 0.001}, "rounds": 1},
        )
        tight_job = wait_job(client, tight.json()["jobId"])
        assert tight_job["status"] == "done", tight_job
        assert tight_job["result"]["published"] is False and tight_job["result"]["version"] is None
        assert "nothing was published" in tight_job["result"]["note"]
        assert tight_job["result"]["constraints"][0]["holds"] is False
        assert tight_job["result"]["allHold"] is False
        assert client.get("/api/cells/ocr-core").json()["version"] == "1.2.0"


def test_optuna_finds_parameters_that_meet_a_latency_constraint(live: Live) -> None:
    """test-tune sleeps `sleepMs` (80 unless told), and answers "blurry" under 10 ms: the
    request's own round misses 70 ms, Optuna's rounds find a set that meets it and still
    passes the test case, and that set is the new version's defaults."""
    with live.client() as client:
        started = client.post(
            "/api/cells/test-tune/specialize",
            json={"prompt": "answer in 70 ms", "constraints": {"latencyMs": 70}, "rounds": 4},
        )
        job = wait_job(client, started.json()["jobId"])
        assert job["status"] == "done", job
        result = job["result"]
        first = result["rounds"][0]
        assert first["params"] == {} and first["meets"] is False
        assert result["published"] is True and result["version"] == "1.1.0"
        chosen = result["defaults"]["sleepMs"]
        assert 10 <= chosen <= 70 and result["allHold"] is True
        assert result["rounds"][result["best"] - 1]["meets"] is True
        measured = {c["name"]: c for c in result["constraints"]}["latencyMs"]["measured"]
        assert measured <= 70
        assert client.get("/api/cells/test-tune").json()["version"] == "1.1.0"
        leaves = [r["leafIndex"] for r in result["rounds"]]
        assert len(set(leaves)) == 4
    deck = live.services.instances.get("deck")
    new = live.services.catalog.get(deck.h_instancia, "test-tune", "1.1.0")
    assert getattr(new, "defaults", None) == {"sleepMs": chosen}


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
    assert "test-echo has no testCases: nothing was measured" in job["result"]["note"]
    assert job["result"]["published"] is True and len(job["result"]["rounds"]) == 1
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
        assert older.status_code == 409 and "not newer" in older.json()["error"]["message"]
        space = client.post(
            "/api/cells/test-tune/specialize", json={"prompt": "p", "space": {"sleepMs": 3}}
        )
        assert space.status_code == 422 and space.json()["error"]["field"] == "space.sleepMs"
        many = client.post("/api/cells/test-tune/specialize", json={"prompt": "p", "rounds": 99})
        assert many.status_code == 422 and many.json()["error"]["field"] == "rounds"
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
