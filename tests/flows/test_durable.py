"""kill -9 of the worker in the middle of an execution: it resumes from its last
finished step; a finished cell run is never repeated; nothing stays running."""

import base64
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.runs.conftest import kill_9, shape_server, worker_process
from tzzr.db.models import Execution, LedgerLeaf, Run
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
        server.live.services.flows.create(
            server.live.services.instances.get("deck").h_instancia, validate(flow)
        )
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


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_kill_9_in_the_middle_of_batches_loses_and_repeats_nothing(
    kind: str, tmp_path: Path
) -> None:
    """Fast executions run in batches (group commit); a kill -9 of the worker while it
    drains them: every execution ends once, each step recorded once with its leaf."""
    flow = {
        "id": "noop3",
        "trigger": {"on": "manual"},
        "steps": [{"id": s, "cell": "test-noop"} for s in "abc"],
        "decision": "exists(c)",
    }
    home = tmp_path / "home"
    total = 400
    with shape_server(kind, home) as server, server.client() as client:
        services = server.live.services
        services.flows.create(services.instances.get("deck").h_instancia, validate(flow))
        ids = []
        for i in range(total):
            content = base64.b64encode(f"k{i}".encode()).decode()
            response = client.post(
                "/execute",
                json={
                    "flow": "noop3",
                    "input": {"type": "bytes", "encoding": "base64", "content": content},
                },
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["executionId"])

        def statuses() -> dict[str, int]:
            with services.engine.connect() as conn:
                found = conn.execute(
                    select(Execution.status, func.count()).group_by(Execution.status)
                ).all()
            return {status: int(count) for status, count in found}

        at_kill: dict[str, int] = {}
        for cycle in range(5):  # until a kill lands in the middle of a batch
            with worker_process(server.env, home / f"w{cycle}.log") as worker:
                deadline = time.monotonic() + 60
                while True:
                    now = statuses()
                    if now.get("running", 0) > 1 and now.get("done", 0) >= total // 4:
                        break
                    assert time.monotonic() < deadline, now
                    time.sleep(0.002)
                kill_9(worker)
            at_kill = statuses()
            if at_kill.get("running", 0) > 1:
                break
        assert at_kill.get("running", 0) > 1, at_kill  # a batch was in flight
        with worker_process(server.env, home / "last.log"):
            deadline = time.monotonic() + 90
            while (now := statuses()).get("done", 0) < total:
                assert time.monotonic() < deadline, now
                time.sleep(0.1)
        with services.engine.connect() as conn:
            executions = conn.execute(
                select(Execution.outcome, Execution.attempt, Execution.next_step)
            ).all()
            runs = conn.execute(select(Run.id, Run.leaf_index)).all()
            leaves = dict(
                conn.execute(
                    select(LedgerLeaf.ref, LedgerLeaf.idx).where(LedgerLeaf.kind == "attestation")
                ).all()
            )
        assert len(executions) == total
        assert {(e.outcome, e.next_step) for e in executions} == {("ok", 3)}
        attempts = [e.attempt for e in executions]
        assert sum(a > 1 for a in attempts) >= at_kill["running"]  # resumed after the kill
        assert max(attempts) <= 2 + cycle  # one more attempt a kill, at the most
        assert sorted(r.id for r in runs) == sorted(f"{e}-{s}" for e in ids for s in "abc")
        assert len(leaves) == len(runs) and all(leaves[r.id] == r.leaf_index for r in runs)
        logs = "".join(p.read_text() for p in home.glob("*.log"))
        assert "Traceback" not in logs, logs[-3000:]
