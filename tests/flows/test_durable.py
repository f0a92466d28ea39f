"""kill -9 of the worker in the middle of an execution: it resumes from its last
finished step; a finished cell run is never repeated; nothing stays running."""

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.runs.conftest import kill_9, shape_server, worker_process
from tzzr.db.models import Run
from tzzr.flows.spec import validate


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_an_execution_survives_kill_9_and_resumes(kind: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    flow = {
        "id": "three-steps",
        "trigger": {"on": "ingest", "match": {"mediaType": ["application/x-durable"]}},
        "steps": [
            {"id": "a", "cell": "test-echo", "params": {"markDir": str(marks)}},
            {"id": "b", "cell": "test-echo", "params": {"markDir": str(marks), "sleepS": 2.5}},
            {"id": "c", "cell": "test-echo", "params": {"markDir": str(marks)}},
        ],
        "decision": "c.size == a.size",
    }
    home = tmp_path / "home"
    with shape_server(kind, home) as server, server.client() as client:
        server.live.services.flows.create(validate(flow))
        h = client.post(
            "/ingest",
            data={"metadata": "{}"},
            files={"file": ("d", b"durable", "application/x-durable")},
        ).json()["h_entrada"]
        (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
        eid = execution["executionId"]
        with worker_process(server.env, home / "w1.log") as first:
            deadline = time.monotonic() + 30
            while not list(marks.glob(f"{eid}-b.*")):  # step b is at work
                assert time.monotonic() < deadline
                time.sleep(0.02)
            kill_9(first)
        middle = client.get(f"/executions/{eid}").json()
        assert middle["status"] == "running" and [s["status"] for s in middle["steps"]] == [
            "done",
            "pending",
            "pending",
        ]
        with worker_process(server.env, home / "w2.log"):
            deadline = time.monotonic() + 60
            while (done := client.get(f"/executions/{eid}").json())["status"] not in (
                "done",
                "failed",
            ):
                assert time.monotonic() < deadline, done
                time.sleep(0.05)
        assert done["status"] == "done" and done["outcome"] == "ok" and done["attempt"] == 2
        assert len(list(marks.glob(f"{eid}-a.*"))) == 1  # a finished run is never repeated
        assert len(list(marks.glob(f"{eid}-b.*"))) == 2  # b started twice, finished once
        assert len(list(marks.glob(f"{eid}-c.*"))) == 1
        with server.live.services.engine.connect() as conn:
            runs = conn.execute(
                select(Run.id, func.count()).where(Run.id.like(f"{eid}-%")).group_by(Run.id)
            ).all()
        assert sorted(runs) == [(f"{eid}-a", 1), (f"{eid}-b", 1), (f"{eid}-c", 1)]
        assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
