"""ALFRED and MASON over HTTP: flows in JSON or YAML (201 with Location, versions, a
tombstone on delete, admin only), /execute (202 with Location), /executions and the
enrichment window /enrich (validated fields; an ingest key gets the receipt only).
Flows managed and run through real workers on both shapes: tests/flows/test_pipeline.py."""

import json
from collections.abc import Iterator

import pytest

from tests.api.conftest import Api, in_process, key_of
from tzzr.api.flows import MAX_FLOW_BYTES

YAML = b"""
id: notes
trigger: {match: {mediaType: [application/x-notes]}}
steps: [{id: a, cell: test-echo}]
decision: "false"
"""
AS_YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("flows") / "home") as made:
        made[1].post("/flows", content=YAML, headers=AS_YAML).raise_for_status()
        yield made


def incident(api: Api, data: bytes) -> str:
    """An entry the `notes` flow sends to MASON (its decision is false)."""
    services, client = api
    captured = client.post("/ingest", files={"file": ("n", data, "application/x-notes")})
    h: str = captured.json()["h_entrada"]
    (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
    assert services.alfred.advance(execution["executionId"], "test") == "done"
    return h


def test_flows_are_created_in_json_or_yaml_and_versioned(api: Api) -> None:
    _, client = api
    spec = {"id": "plain", "decision": "true"}
    created = client.post("/flows", json=spec)
    assert created.status_code == 201 and created.headers["Location"] == "/flows/plain"
    assert created.json()["version"] == 1 and created.json()["createdAt"].endswith("Z")
    assert client.post("/flows", json=spec).status_code == 409
    updated = client.put("/flows/plain", content=YAML.replace(b"notes", b"plain"), headers=AS_YAML)
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert client.get("/flows/plain").json()["spec"]["decision"] == "false"
    assert client.get("/flows/plain", params={"version": 1}).json()["spec"]["decision"] == "true"
    assert client.get("/flows/plain", params={"version": 0}).status_code == 422
    assert client.put("/flows/plain", json={"id": "other"}).status_code == 409
    assert client.put("/flows/ghost", json={"id": "ghost"}).status_code == 404
    listed = {f["id"]: f["version"] for f in client.get("/flows").json()["flows"]}
    assert listed["plain"] == 2 and "notes" in listed
    assert client.delete("/flows/plain").status_code == 204
    assert client.get("/flows/plain").status_code == 404
    assert client.get("/flows/plain", params={"version": 2}).status_code == 200  # history
    assert "plain" not in {f["id"] for f in client.get("/flows").json()["flows"]}


def test_a_bad_or_huge_spec_is_refused_naming_the_field(api: Api) -> None:
    _, client = api
    bad = client.post("/flows", json={"id": "x", "decision": "a >"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "decision"
    unknown = client.post("/flows", json={"id": "x", "colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "colour"
    huge = {"id": "x", "description": "d" * MAX_FLOW_BYTES}
    assert client.post("/flows", content=json.dumps(huge)).status_code == 413


def test_only_an_admin_changes_flows_and_a_reader_reads_them(api: Api) -> None:
    _, client = api
    reader, ingest = key_of(api, "read"), key_of(api, "ingest")
    assert client.get("/flows/notes", headers=reader).status_code == 200
    for headers in (reader, ingest):
        assert client.post("/flows", json={"id": "mine"}, headers=headers).status_code == 403
        assert client.put("/flows/notes", content=YAML, headers=headers).status_code == 403
        assert client.delete("/flows/notes", headers=headers).status_code == 403
    assert client.get("/flows", headers=ingest).status_code == 403
    assert client.get("/flows/notes", headers={"Authorization": ""}).status_code == 401


def test_execute_answers_202_with_where_to_look(api: Api) -> None:
    _, client = api
    body = {"flow": "notes", "input": {"type": "text", "encoding": "base64", "content": "aGk="}}
    started = client.post("/execute", json=body)
    assert started.status_code == 202 and started.json()["status"] == "queued"
    execution_id = started.json()["executionId"]
    assert started.headers["Location"] == f"/executions/{execution_id}"
    shown = client.get(started.headers["Location"]).json()
    assert shown["flow"] == "notes" and shown["input"]["size"] == 2
    assert client.post("/execute", json={"flow": "notes"}).status_code == 422
    not_hex = client.post("/execute", json={"flow": "notes", "h_entrada": "xyz"})
    assert not_hex.status_code == 422 and not_hex.json()["error"]["field"] == "h_entrada"
    assert client.post("/execute", json={**body, "extra": 1}).status_code == 422
    assert client.get("/executions/nope").status_code == 404


def test_an_ingest_key_cannot_execute_on_what_it_cannot_read(api: Api) -> None:
    _, client = api
    ingest = key_of(api, "ingest")
    given = {"type": "text", "encoding": "base64", "content": "aGk="}
    own = client.post("/execute", json={"flow": "notes", "input": given}, headers=ingest)
    assert own.status_code == 202  # its own bytes
    blob = {**given, "encoding": "blob", "content": "ab" * 32}
    stored = client.post("/execute", json={"flow": "notes", "input": blob}, headers=ingest)
    assert stored.status_code == 403
    on_entry = client.post(
        "/execute", json={"flow": "notes", "h_entrada": "ab" * 32}, headers=ingest
    )
    assert on_entry.status_code == 403


def test_executions_are_listed_with_filters_and_bounds(api: Api) -> None:
    _, client = api
    h = incident(api, b"listed")
    (one,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
    assert one["status"] == "done" and one["outcome"] == "incident"
    done = client.get("/executions", params={"flow": "notes", "status": "done"}).json()
    assert h in {e["h_entrada"] for e in done["executions"]}
    bad = client.get("/executions", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    assert client.get("/executions", params={"limit": 0}).status_code == 422
    assert client.get("/executions", params={"limit": 501}).status_code == 422
    assert len(client.get("/executions", params={"limit": 1}).json()["executions"]) == 1


def test_an_item_in_the_window_is_read_and_enriched(api: Api) -> None:
    _, client = api
    h = incident(api, b"to enrich")
    pending = client.get("/enrich", params={"state": "pending"}).json()["items"]
    assert h in {item["h_entrada"] for item in pending}
    item = client.get(f"/enrich/{h}").json()
    assert item["state"] == "pending" and item["secondsLeft"] > 0
    wrong = client.put(f"/enrich/{h}", json={"fields": {"currency": "euros"}})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "fields.currency"
    done = client.put(f"/enrich/{h}", json={"fields": {"amount": 12.5, "currency": "EUR"}})
    assert done.status_code == 200 and done.json()["state"] == "enriched"
    assert done.json()["leafIndex"] is not None and len(done.json()["fieldsHash"]) == 64
    assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
    assert client.get("/enrich", params={"state": "nope"}).status_code == 422
    assert client.put(f"/enrich/{h}", json={"fields": {}, "more": 1}).status_code == 422
    assert client.get(f"/enrich/{'cd' * 32}").status_code == 404


def test_an_ingest_key_enriches_and_gets_only_the_receipt(api: Api) -> None:
    _, client = api
    h = incident(api, b"enriched by an ingest key")
    ingest = key_of(api, "ingest")
    assert client.get(f"/enrich/{h}", headers=ingest).status_code == 403
    done = client.put(f"/enrich/{h}", json={"fields": {"note": "seen"}}, headers=ingest)
    assert done.status_code == 200
    assert set(done.json()) == {"h_entrada", "state", "fieldsHash", "leafIndex"}
