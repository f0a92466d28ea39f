"""THE FACTORY over HTTP on a live server: refinements with the deterministic planner and
with a (scripted) model, rounds and their attestations, accepting and rejecting items
into the vision, and the errors a caller or a model can cause; on both shapes."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import Live, make_settings, running
from tests.factory.scripted import scripted
from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.models import LedgerLeaf


@pytest.fixture(scope="module", params=["sqlite-local", "postgresql-s3"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    home = tmp_path_factory.mktemp(f"factory-{request.param}") / "home"
    with running(make_settings(home, request.param)) as server:
        yield server


def wait(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.get(f"/factory/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def vision(client: httpx.Client, title: str = "Run a marathon") -> int:
    made = client.post("/visions", json={"title": title})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def leaf(live: Live, index: int) -> dict[str, Any]:
    deck = live.services.instances.get("deck").h_instancia
    with live.services.engine.connect() as conn:
        row = conn.execute(
            select(LedgerLeaf).where(LedgerLeaf.h_instancia == deck, LedgerLeaf.idx == index)
        ).one()
    found: dict[str, Any] = json.loads(row.data)
    return found


def refine(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    started = client.post("/factory/refine", json=body)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/factory/jobs/{started.json()['jobId']}"
    return wait(client, started.json()["jobId"])


def test_the_deterministic_planner_proposes_and_items_are_accepted(live: Live) -> None:
    with live.client() as client:
        vid = vision(client)
        started = client.post(
            "/factory/refine",
            json={
                "target": {"vision": vid},
                "goal": "Run a marathon in under four hours",
                "constraints": {"start": "2027-01-01", "deadline": "2027-06-30"},
            },
        )
        assert started.json()["planner"] == "deterministic planner"
        job = wait(client, started.json()["jobId"])
        assert job["status"] == "done", job
        assert job["planner"] == "deterministic planner"
        assert job["result"]["rounds"] == 1 and job["result"]["openChecks"] == []
        (first,) = job["rounds"]
        assert first["model"] == "deterministic planner" and first["critique"] == []
        assert first["draft"]["planner"] == "deterministic planner"
        assert first["diff"]["added"] == [i["id"] for i in job["items"]]
        items = {i["id"]: i for i in job["items"]}
        assert items["m1"]["kind"] == "milestone" and items["a2"]["milestone"] == "m1"
        assert max(i.get("targetDate") or i["due"] for i in items.values()) == "2027-06-30"
        assert all(i["decision"] is None for i in items.values())

        attested = leaf(live, first["leafIndex"])
        assert attested["kind"] == "attestation"
        assert attested["ref"] == f"factory/{job['jobId']}/1"
        assert attested["model"] == "deterministic planner"
        assert attested["promptHash"] == first["promptHash"]
        assert attested["outputHash"] == first["outputHash"]

        proof = client.get(f"/factory/jobs/{job['jobId']}/rounds/1/receipt").json()
        assert proof["sealed"] is False and proof["leafIndex"] == first["leafIndex"]
        assert sha256_hex(canonical_json(proof["record"])) == attested["hash"]
        assert proof["record"]["draft"] == first["draft"]
        assert client.post("/consolidate").status_code == 200
        sealed = client.get(f"/factory/jobs/{job['jobId']}/rounds/1/receipt").json()
        assert sealed["sealed"] is True and sealed["inclusion"]["leaf_index"] == first["leafIndex"]
        assert client.get(f"/factory/jobs/{job['jobId']}/rounds/2/receipt").status_code == 404

        base = f"/factory/jobs/{job['jobId']}/items"
        early = client.post(f"{base}/a2/accept")
        assert early.status_code == 409 and "accept that milestone first" in early.text
        milestone = client.post(f"{base}/m1/accept")
        assert milestone.status_code == 200, milestone.text
        action = client.post(f"{base}/a2/accept").json()
        assert action["objectKind"] == "action"
        assert client.post(f"{base}/a3/reject").json()["decision"] == "rejected"
        again = client.post(f"{base}/a3/accept")
        assert again.status_code == 409 and "already rejected" in again.text
        assert client.post(f"{base}/x9/accept").status_code == 404

        tree = client.get(f"/visions/{vid}").json()
        (made,) = tree["milestones"]
        assert made["id"] == milestone.json()["objectId"]
        assert made["title"] == items["m1"]["title"] and made["targetDate"] == "2027-02-15"
        assert made["source"] == {"factory": job["jobId"], "round": 1, "item": "m1"}
        assert [a["id"] for a in made["actions"]] == [action["objectId"]]
        assert tree["progress"] == 0.0
        done = client.patch(f"/actions/{action['objectId']}", json={"done": True})
        assert done.status_code == 200, done.text
        assert client.get(f"/visions/{vid}").json()["progress"] > 0.0

        shown = client.get(f"/factory/jobs/{job['jobId']}").json()
        decided = {i["id"]: (i["decision"], i["objectId"]) for i in shown["items"]}
        assert decided["m1"] == ("accepted", made["id"]) and decided["a3"] == ("rejected", None)
        listed = client.get("/factory/jobs", params={"vision": vid}).json()["items"]
        assert [j["jobId"] for j in listed] == [job["jobId"]]


def test_a_model_refines_in_rounds_with_diffs_and_a_repair(live: Live) -> None:
    draft = {
        "summary": "s",
        "milestones": [
            {"id": "", "title": "Base mileage", "targetDate": "2027-03-01", "weight": 1,
             "actions": [{"id": "", "title": "Run 3 times a week", "due": "2027-02-01"}]},
            {"id": "", "title": "Long runs", "targetDate": "2027-08-01", "weight": 2,
             "actions": []},
        ],
    }  # fmt: skip
    revised = {
        "summary": "s",
        "milestones": [
            {"id": "m1", "title": "Base mileage", "targetDate": "2027-03-01", "weight": 1,
             "actions": [{"id": "a2", "title": "Run 4 times a week", "due": "2027-02-01"}]},
            {"id": "m3", "title": "Long runs", "targetDate": "2027-06-01", "weight": 2,
             "actions": [{"id": "", "title": "A 30 km run", "due": "2027-05-20"}]},
        ],
    }  # fmt: skip
    critique = {"notes": [{"item": "a2", "issue": "too little running"}]}
    steps = [
        {"content": "{not json"},  # propose, malformed: repaired
        {"content": json.dumps(draft)},
        {"content": json.dumps(critique)},  # round 2
        {"content": json.dumps(revised)},
    ]
    settings = live.services.settings
    with live.client() as client, scripted(steps) as model:
        vid = vision(client, "Marathon")
        settings.llm_base_url, settings.llm_model = model.url, "tiny-test"
        try:
            job = refine(
                client,
                {
                    "target": {"vision": vid},
                    "goal": "Marathon",
                    "constraints": {"start": "2027-01-01", "deadline": "2027-06-30"},
                    "rounds": 2,
                },
            )
        finally:
            settings.llm_base_url, settings.llm_model = "", ""
        assert job["status"] == "done", job
        assert job["planner"] == "tiny-test" and len(model.requests) == 4
        one, two = job["rounds"]
        assert one["model"] == "tiny-test" and one["parameters"]["calls"] == [
            {"step": "propose", "repaired": True}
        ]
        assert [i["id"] for i in one["draft"]["items"]] == ["m1", "a2", "m3"]
        checks = [n for n in two["critique"] if n["item"] == "m3"]
        assert {n["issue"] for n in checks} == {
            "is dated 2027-08-01, after the deadline 2027-06-30",
            "has no action",
        }
        assert {"item": "a2", "issue": "too little running"} in two["critique"]
        assert two["diff"]["added"] == ["a4"] and two["diff"]["removed"] == []
        assert {c["id"]: c["fields"] for c in two["diff"]["changed"]} == {
            "a2": {"title": ["Run 3 times a week", "Run 4 times a week"]},
            "m3": {"targetDate": ["2027-08-01", "2027-06-01"]},
        }
        # the revise prompt carried the draft and every note; the schema was the draft's
        sent = json.loads(model.requests[3]["messages"][1]["content"])
        assert sent["task"] == "revise" and sent["draft"]["milestones"][1]["id"] == "m3"
        assert model.requests[3]["response_format"]["json_schema"]["name"] == "draft"
        attested = leaf(live, two["leafIndex"])
        assert attested["model"] == "tiny-test" and attested["round"] == 2
        assert json.loads(attested["parameters"])["calls"][0] == {
            "step": "critique",
            "repaired": False,
        }
        assert job["result"]["openChecks"] == []


def test_a_models_failure_is_the_jobs_error(live: Live) -> None:
    settings = live.services.settings
    steps = [{"status": 429, "headers": {"Retry-After": "3600"}}]
    with live.client() as client, scripted(steps) as model:
        vid = vision(client, "Rate limited")
        settings.llm_base_url, settings.llm_model = model.url, "busy"
        try:
            job = refine(client, {"target": {"vision": vid}, "goal": "x"})
        finally:
            settings.llm_base_url, settings.llm_model = "", ""
    assert job["status"] == "failed" and job["rounds"] == []
    assert job["error"]["code"] == "model_rate_limited"
    assert "3600 s" in job["error"]["message"]
    assert "TZZR_LLM_RETRY_WAIT_SECONDS" in job["error"]["message"]


def test_bad_requests_are_refused_before_a_job_starts(live: Live) -> None:
    with live.client() as client:
        vid = vision(client, "Checked")

        def refused(body: dict[str, Any]) -> httpx.Response:
            return client.post("/factory/refine", json=body)

        unknown = refused({"target": {"vision": vid}, "constraints": {"fps": 3}})
        assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "constraints"
        assert "deadline" in unknown.json()["error"]["message"]
        order = refused(
            {
                "target": {"vision": vid},
                "constraints": {"start": "2027-02-01", "deadline": "2027-01-01"},
            }
        )
        assert order.status_code == 422 and "after start" in order.json()["error"]["message"]
        assert refused({"target": {}, "goal": "x"}).status_code == 422
        both = refused({"target": {"vision": vid, "cell": "test-echo"}, "goal": "x"})
        assert both.status_code == 422 and both.json()["error"]["field"] == "target"
        assert refused({"target": {"vision": "one"}, "goal": "x"}).status_code == 422
        assert refused({"target": {"vision": 2**70}, "goal": "x"}).status_code == 422
        assert refused({"target": {"vision": vid}, "rounds": 9}).status_code == 422
        assert refused({"target": {"vision": 999999}, "goal": "x"}).status_code == 404
        assert refused({"target": {"cell": "nope"}, "goal": "x"}).status_code == 404
        assert client.get("/factory/jobs/nope").status_code == 404
        # a refinement whose goal is the vision's title, and a cell's: a specialisation
        titled = refine(client, {"target": {"vision": vid}})
        assert titled["request"]["goal"] == "Checked"
        cell = refine(client, {"target": {"cell": "test-echo"}, "goal": "echo"})
        assert cell["kind"] == "specialize" and cell["result"]["published"] is True
        accept = client.post(f"/factory/jobs/{cell['jobId']}/items/m1/accept")
        assert accept.status_code == 409 and "only a vision's refinement" in accept.text
        # an accept that cannot be written (its vision is gone) leaves nothing behind
        milestones = len(client.get("/milestones").json()["milestones"])
        assert client.delete(f"/visions/{vid}").status_code == 204
        gone = client.post(f"/factory/jobs/{titled['jobId']}/items/m1/accept")
        assert gone.status_code == 422, gone.text
        assert len(client.get("/milestones").json()["milestones"]) == milestones
        after = client.get(f"/factory/jobs/{titled['jobId']}").json()
        assert after["decisions"] == [] and after["items"][0]["decision"] is None
    reader, _ = live.services.keys.create("deck", "read")
    with live.client(reader) as client:
        assert client.post("/factory/refine", json={"target": {"vision": vid}}).status_code == 403
        assert client.get(f"/factory/jobs/{titled['jobId']}").status_code == 200
        item = f"/factory/jobs/{titled['jobId']}/items/m1/accept"
        assert client.post(item).status_code == 403
