"""ALFRED's runner (flows/runner.py) and its group commit: a worker runs the executions
waiting in the queue as one batch, one step of each a round, and writes a round's
finished steps in one transaction. Each run is still recorded once with its attestation
leaf, an execution's next step never starts before its last one is written, a failure or
a retry stays the execution's own, a lost lease drops only its execution, and a batch
that turns out slow gives the others back. A worker killed with -9 in the middle of them
is tests/flows/test_durable.py's; the pacing (flows/batch.py) is tests/flows/test_batch.py's."""

import base64
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update

from tests.conftest import make_settings
from tzzr.db.models import Execution, LedgerLeaf, Run
from tzzr.flows.engine import PREFIX
from tzzr.flows.spec import validate
from tzzr.runs.service import RunInput
from tzzr.services import Services

NOOP3 = {
    "id": "noop3",
    "trigger": {"on": "manual"},
    "steps": [{"id": s, "cell": "test-noop"} for s in "abc"],
    "decision": "exists(c)",
}


@pytest.fixture
def built(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Services]:
    backend = getattr(request, "param", "sqlite-local")
    services = Services.build(
        make_settings(tmp_path / "home", backend, run_retry_seconds=0.2, run_max_attempts=3)
    )
    services.bootstrap()
    yield services
    services.close()


def manual_flow(
    services: Services, flow_id: str, steps: list[dict[str, Any]], decision: str = "true"
) -> None:
    services.flows.create(
        services.instances.get("deck").h_instancia,
        validate(
            {"id": flow_id, "trigger": {"on": "manual"}, "steps": steps, "decision": decision}
        ),
    )


def start(services: Services, flow: str, n: int, tag: str = "") -> list[str]:
    instance = services.instances.get("deck")
    store = services.ingest.store_for(instance)
    ids = []
    for i in range(n):
        given = RunInput(
            type="bytes", encoding="base64", content=base64.b64encode(f"{tag}{i}".encode()).decode()
        )
        ids.append(services.alfred.start(instance, flow, given=given, store=store))
    return ids


def rows(services: Services, ids: list[str]) -> dict[str, Any]:
    with services.engine.connect() as conn:
        found = conn.execute(select(Execution).where(Execution.id.in_(ids))).all()
    return {row.id: row for row in found}


class Commits:
    """Counts the commits of every engine in this process while it is open."""

    def __init__(self) -> None:
        self.count = 0

    def _on(self, _conn: Any) -> None:
        self.count += 1

    def __enter__(self) -> "Commits":
        event.listen(Engine, "commit", self._on)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "commit", self._on)


@pytest.mark.parametrize("built", ["sqlite-local", "postgresql-local"], indirect=True)
def test_a_batch_writes_a_round_of_fast_steps_in_one_transaction(built: Services) -> None:
    services = built
    services.flows.create(services.instances.get("deck").h_instancia, validate(NOOP3))
    runner = services.alfred.runner
    for warm in start(services, "noop3", 5, "warm"):  # the worker learns the cell is fast
        assert runner.advance(warm, "w") == "done"
    assert runner.speed.fast(validate(NOOP3).steps[0])

    ids = start(services, "noop3", 12)
    with Commits() as commits:
        outcome = runner.advance_many(ids, "w")
    assert outcome == dict.fromkeys(ids, "done")
    # one claim and three rounds (a split by the 10 ms group age is allowed); one at a
    # time it was 4 per execution: 48
    assert commits.count <= 12, commits.count

    executions = rows(services, ids)
    assert {e.status for e in executions.values()} == {"done"}
    assert {e.outcome for e in executions.values()} == {"ok"}
    assert all([s["status"] for s in e.steps] == ["done"] * 3 for e in executions.values())
    with services.engine.connect() as conn:
        runs = conn.execute(
            select(Run.id, Run.leaf_index).where(
                Run.id.in_([f"{i}-{s}" for i in ids for s in "abc"])
            )
        ).all()
        leaves = dict(
            conn.execute(
                select(LedgerLeaf.ref, LedgerLeaf.idx).where(LedgerLeaf.kind == "attestation")
            ).all()
        )
        total = conn.execute(select(func.count()).select_from(LedgerLeaf)).scalar_one()
        top = conn.execute(select(func.max(LedgerLeaf.idx))).scalar_one()
    assert len(runs) == 36  # each step recorded once
    assert all(leaves[run_id] == index for run_id, index in runs)  # its own leaf
    assert total == top + 1  # no index reserved twice or skipped
    block = services.ledger.seal(services.instances.get("deck"))
    assert block is not None and block.tree_size == total


def test_a_failure_and_a_retry_stay_their_executions_own(built: Services, tmp_path: Path) -> None:
    services = built
    marks = tmp_path / "marks"
    for flow_id, params in (
        ("fine", {}),
        ("refused", {"fail": "input"}),
        ("flaky", {"fail": "flaky", "succeedOn": 2, "markDir": str(marks)}),
    ):
        steps: list[dict[str, Any]] = [
            {"id": "a", "cell": "test-echo"},
            {"id": "b", "cell": "test-echo", "params": params},
        ]
        manual_flow(services, flow_id, steps, "b.size == a.size")
    fine = start(services, "fine", 2)
    refused = start(services, "refused", 1)
    flaky = start(services, "flaky", 1)
    before = datetime.now(UTC).replace(tzinfo=None)  # huey's clock: naive UTC
    outcome = services.alfred.runner.advance_many(fine + refused + flaky, "w")
    assert outcome == {fine[0]: "done", fine[1]: "done", refused[0]: "failed", flaky[0]: "queued"}
    executions = rows(services, fine + refused + flaky)
    failed = executions[refused[0]]
    assert failed.error["step"] == "b" and "refused" in failed.error["message"]
    assert [s["status"] for s in failed.steps] == ["done", "failed"]
    again = executions[flaky[0]]
    assert again.status == "queued" and again.next_step == 1  # resumes at b
    messages = []
    while (message := services.queue.take("cpu")) is not None:
        messages.append(message)
    (retry,) = [m for m in messages if services.queue.payload(m) == PREFIX + flaky[0] and m.eta]
    assert retry.eta >= before + timedelta(seconds=0.2)  # queued again after its back-off
    deadline = time.monotonic() + 10
    while datetime.now(UTC).replace(tzinfo=None) < retry.eta:  # until it comes due
        assert time.monotonic() < deadline, retry.eta
        time.sleep(0.01)
    assert services.alfred.runner.advance(flaky[0], "w") == "done"
    with services.engine.connect() as conn:
        ids = conn.execute(select(Run.id).where(Run.id.like(f"{flaky[0]}-%"))).scalars().all()
    assert sorted(ids) == [f"{flaky[0]}-a", f"{flaky[0]}-b"]  # a was not run again


def test_a_lost_lease_drops_only_its_execution(built: Services, tmp_path: Path) -> None:
    services = built
    marks = tmp_path / "marks"
    a = {"id": "a", "cell": "test-echo", "params": {"markDir": str(marks)}}
    b = {"id": "b", "cell": "test-echo", "params": {"markDir": str(marks), "sleepS": 0.05}}
    manual_flow(services, "slow-b", [a, b])
    lost, kept = start(services, "slow-b", 2)

    def steal() -> None:  # another worker claims `lost` while its step b runs
        deadline = time.monotonic() + 10
        while not list(marks.glob(f"{lost}-b.*")) and time.monotonic() < deadline:
            time.sleep(0.002)
        with services.engine.begin() as conn:
            conn.execute(
                update(Execution).where(Execution.id == lost).values(attempt=Execution.attempt + 1)
            )

    thief = threading.Thread(target=steal)
    thief.start()
    outcome = services.alfred.runner.advance_many([lost, kept], "w")
    thief.join()
    assert outcome == {lost: "discarded", kept: "done"}
    with services.engine.connect() as conn:
        recorded = set(conn.execute(select(Run.id)).scalars())
    assert f"{lost}-a" in recorded and f"{lost}-b" not in recorded
    assert {f"{kept}-a", f"{kept}-b"} <= recorded


def test_a_batch_that_runs_long_gives_the_others_back(built: Services) -> None:
    services = built
    manual_flow(services, "slow", [{"id": "a", "cell": "test-echo", "params": {"sleepS": 0.3}}])
    ids = start(services, "slow", 4)
    depth = services.queue.depth()["cpu"]
    outcome = services.alfred.runner.advance_many(ids, "w")
    released = [i for i in ids if outcome[i] == "released"]
    assert outcome[ids[0]] == "done" and len(released) == 2, outcome  # 0.3 s > 0.2 s
    assert services.queue.depth()["cpu"] == depth + 2  # queued again, for any worker
    for row in rows(services, released).values():
        assert (row.status, row.attempt, row.worker) == ("queued", 0, None)  # not attempted
    assert services.alfred.runner.batch_size() == 1  # it learned: slow flows go one by one
    for execution_id in released:
        assert services.alfred.runner.advance(execution_id, "w") == "done"
    assert {r.attempt for r in rows(services, released).values()} == {1}


def test_each_instance_keeps_its_own_copy_of_a_result(built: Services) -> None:
    """The same answer in two instances is stored in each one's blobs (a worker's
    cache of stored results must not let the second instance skip its copy)."""
    services = built
    services.flows.create(services.instances.get("deck").h_instancia, validate(NOOP3))
    other = services.instances.add("other")
    services.flows.create(other.h_instancia, validate(NOOP3))
    ids = []
    for name in ("deck", "other"):
        instance = services.instances.get(name)
        given = RunInput(type="bytes", encoding="base64", content="c2FtZQ==")
        store = services.ingest.store_for(instance)
        ids.append(services.alfred.start(instance, "noop3", given=given, store=store))
    assert services.alfred.runner.advance_many(ids, "w") == dict.fromkeys(ids, "done")
    assert services.runs.result(other, f"{ids[1]}-c") == b"{}"


@pytest.mark.parametrize("built", ["sqlite-s3"], indirect=True)
def test_a_batch_fetches_its_files_from_s3_at_once_each_to_its_own(built: Services) -> None:
    services = built
    steps = [{"id": s, "cell": "test-echo"} for s in "ab"]
    manual_flow(services, "echo2", steps, "a.sha256 == b.sha256")
    ids = start(services, "echo2", 10)
    outcome = services.alfred.runner.advance_many(ids, "w")
    for execution_id in [i for i in ids if outcome[i] == "released"]:  # the batch ran long
        outcome[execution_id] = services.alfred.runner.advance(execution_id, "w")
    assert outcome == dict.fromkeys(ids, "done")
    for execution in rows(services, ids).values():  # each step read its own input
        assert [s["output"]["sha256"] for s in execution.steps] == [execution.input["sha256"]] * 2
        assert execution.outcome == "ok"
