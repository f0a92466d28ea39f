"""A refinement outlives its server: `tzzr serve` is killed (-9) while round 2 waits for
the model; the next server's reaper finds the job once its lease has run out, queues it
again and resumes it from round 2. Round 1 is neither asked for nor written twice."""

import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import make_settings
from tests.e2e.conftest import free_port, server_process
from tests.factory.scripted import scripted
from tzzr.db.models import Job
from tzzr.services import Services

DRAFT = {
    "summary": "s",
    "milestones": [
        {"id": "", "title": "Base", "targetDate": "2027-03-01", "weight": 1,
         "actions": [{"id": "", "title": "Run", "due": "2027-02-01"}]},
    ],
}  # fmt: skip
REVISED = {
    "summary": "s",
    "milestones": [
        {"id": "m1", "title": "Base", "targetDate": "2027-03-01", "weight": 1,
         "actions": [{"id": "a2", "title": "Run more", "due": "2027-02-01"}]},
    ],
}  # fmt: skip


def _job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/factory/jobs/{job_id}").json()
    return found


def test_a_killed_servers_refinement_is_resumed_from_its_last_round(tmp_path: Path) -> None:
    home = tmp_path / "home"
    steps: list[dict[str, Any]] = [
        {"content": json.dumps(DRAFT)},  # round 1: propose
        {"sleep": 60, "content": json.dumps({"notes": []})},  # round 2's critique: hangs
        {"content": json.dumps({"notes": [{"item": "a2", "issue": "more"}]})},
        {"content": json.dumps(REVISED)},
    ]
    with scripted(steps) as model:
        settings = make_settings(home, llm_base_url=model.url, llm_model="slow")
        built = Services.build(settings)
        key = built.bootstrap()
        built.close()
        env = {
            "TZZR_HOME": str(home),
            "TZZR_LLM_BASE_URL": model.url,
            "TZZR_LLM_MODEL": "slow",
            "TZZR_JOB_LEASE_SECONDS": "2",
            "TZZR_EMBEDDED_WORKER": "false",
        }
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        with server_process(env, port, tmp_path / "first.log") as first:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                vision = client.post("/visions", json={"title": "Marathon"}).json()["id"]
                started = client.post(
                    "/factory/refine",
                    json={"target": {"vision": vision}, "goal": "Marathon", "rounds": 2},
                )
                assert started.status_code == 202, started.text
                job_id = started.json()["jobId"]
                deadline = time.monotonic() + 30
                while len(model.requests) < 2 or not _job(client, job_id)["rounds"]:
                    assert time.monotonic() < deadline, _job(client, job_id)
                    time.sleep(0.05)
                before = _job(client, job_id)
                assert before["status"] == "running" and len(before["rounds"]) == 1
            first.send_signal(signal.SIGKILL)
            first.wait(10)

        with (
            server_process(env, port, tmp_path / "second.log"),
            httpx.Client(base_url=url, headers=headers, timeout=30) as client,
        ):
            deadline = time.monotonic() + 60
            while (job := _job(client, job_id))["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
        assert job["status"] == "done", job
        assert [r["number"] for r in job["rounds"]] == [1, 2]
        assert job["rounds"][0] == before["rounds"][0]  # round 1 kept as it was
        assert job["rounds"][1]["critique"] == [{"item": "a2", "issue": "more"}]
        assert [i["title"] for i in job["items"]] == ["Base", "Run more"]
        assert len(model.requests) == 4  # round 1 was not asked for again

    built = Services.build(settings)
    try:
        with built.engine.connect() as conn:
            attempt = conn.execute(select(Job.attempt).where(Job.id == job_id)).scalar_one()
    finally:
        built.close()
    assert attempt == 2
