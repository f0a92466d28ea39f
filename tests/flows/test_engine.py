"""ALFRED's executions: a capture that matches a flow with steps becomes a queued
execution in its entry's transaction; `start` runs a flow on an entry or an input; reads
stay in the instance. Running them is tests/flows/test_runner.py's; over HTTP,
tests/api/test_flows.py."""

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tzzr.app import create_app
from tzzr.errors import InvalidInput, NotFound
from tzzr.flows.engine import PREFIX, execution_json
from tzzr.flows.spec import validate
from tzzr.runs.service import RunInput
from tzzr.services import Services

NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
TWO_STEPS = {
    "id": "two",
    "trigger": {"match": {"mediaType": ["application/x-two"]}},
    "steps": [{"id": "a", "cell": "test-echo"}, {"id": "b", "cell": "test-noop"}],
    "decision": "true",
}
NO_STEPS = {"id": "none", "trigger": {"match": {"mediaType": ["text/plain"]}}}


@pytest.fixture
def built(tmp_path: Path) -> Iterator[tuple[Services, TestClient]]:
    services = Services.build(make_settings(tmp_path / "home"), clock=lambda: NOW)
    key = services.bootstrap()
    deck = services.instances.get("deck").h_instancia
    services.flows.create(deck, validate(TWO_STEPS))
    services.flows.create(deck, validate(NO_STEPS))
    client = TestClient(create_app(services))
    client.headers["Authorization"] = f"Bearer {key}"
    yield services, client
    client.close()
    services.close()


def capture(client: TestClient, media_type: str, data: bytes = b"x") -> dict[str, Any]:
    answer = client.post("/ingest", files={"file": ("f", data, media_type)})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_capture_matching_a_flow_with_steps_is_queued_as_an_execution(
    built: tuple[Services, TestClient],
) -> None:
    services, client = built
    deck = services.instances.get("deck")
    queued = services.queue.depth()["cpu"]
    h = capture(client, "application/x-two")["h_entrada"]
    assert services.entries.get(deck, h)["state"] == "processing"
    (row,) = services.alfred.list(deck, h_entrada=h)
    assert (row.flow_id, row.flow_version, row.status, row.attempt) == ("two", 1, "queued", 0)
    assert [(s["id"], s["cell"], s["status"]) for s in row.steps] == [
        ("a", "test-echo", "pending"),
        ("b", "test-noop", "pending"),
    ]
    lease = timedelta(seconds=10 * services.settings.run_lease_seconds)
    assert row.lease_until - row.created_at == lease  # a lost message is queued again then
    assert services.queue.depth()["cpu"] == queued + 1
    message = services.queue.take("cpu")
    assert services.queue.payload(message) == PREFIX + row.id


def test_a_flow_without_steps_or_no_flow_leaves_the_entry_received(
    built: tuple[Services, TestClient],
) -> None:
    services, client = built
    deck = services.instances.get("deck")
    for media_type in ("text/plain", "application/x-nothing"):
        h = capture(client, media_type)["h_entrada"]
        assert services.entries.get(deck, h)["state"] in ("received", "consolidated")
        assert services.alfred.list(deck, h_entrada=h) == []


def test_a_flow_is_started_on_an_entry_or_an_input(built: tuple[Services, TestClient]) -> None:
    services, client = built
    deck = services.instances.get("deck")
    store = services.ingest.store_for(deck)
    h = capture(client, "text/plain", b"a note")["h_entrada"]
    on_entry = services.alfred.start(deck, "two", h_entrada=h)
    assert services.entries.get(deck, h)["state"] == "processing"
    row = services.alfred.get(deck, on_entry)
    assert (row.h_entrada, row.input, row.flow_id) == (h, None, "two")
    given = RunInput(type="text", encoding="base64", content=base64.b64encode(b"hi").decode())
    on_input = services.alfred.get(deck, services.alfred.start(deck, "two", None, given, store))
    assert on_input.h_entrada is None
    assert on_input.input["size"] == 2 and on_input.input["type"] == "text"
    assert store.read_all(on_input.input["sha256"]) == b"hi"
    services.flows.update(deck.h_instancia, "two", validate({**TWO_STEPS, "decision": "false"}))
    newest = services.alfred.get(deck, services.alfred.start(deck, "two", h_entrada=h))
    assert newest.flow_version == 2


def test_starting_names_what_is_wrong(built: tuple[Services, TestClient]) -> None:
    services, client = built
    deck = services.instances.get("deck")
    corp = services.add_instance("corp")
    h = capture(client, "text/plain", b"deck's")["h_entrada"]
    given = RunInput(type="text", encoding="base64", content="aGk=")
    store = services.ingest.store_for(deck)
    with pytest.raises(InvalidInput, match="either h_entrada or input") as both:
        services.alfred.start(deck, "two", h, given, store)
    assert both.value.field == "h_entrada"
    with pytest.raises(InvalidInput, match="either h_entrada or input"):
        services.alfred.start(deck, "two")
    with pytest.raises(NotFound, match="no flow 'nope'"):
        services.alfred.start(deck, "nope", h_entrada=h)
    services.flows.create(corp.h_instancia, validate(TWO_STEPS))
    with pytest.raises(NotFound, match=f"no entry {h} in this instance"):
        services.alfred.start(corp, "two", h_entrada=h)
    services.flows.delete(deck.h_instancia, "two")
    with pytest.raises(NotFound):
        services.alfred.start(deck, "two", h_entrada=h)


def test_executions_are_read_in_their_instance_newest_first(
    built: tuple[Services, TestClient],
) -> None:
    services, client = built
    deck = services.instances.get("deck")
    corp = services.add_instance("corp")
    h = capture(client, "application/x-two", b"one")["h_entrada"]
    other = capture(client, "application/x-two", b"two")["h_entrada"]
    (first,) = services.alfred.list(deck, h_entrada=h)
    with pytest.raises(NotFound, match="in this instance"):
        services.alfred.get(corp, first.id)
    assert services.alfred.list(corp) == []
    assert {r.h_entrada for r in services.alfred.list(deck, flow="two")} == {h, other}
    assert services.alfred.list(deck, flow="none") == []
    assert len(services.alfred.list(deck, status="queued")) == 2
    assert services.alfred.list(deck, status="done") == []
    assert len(services.alfred.list(deck, limit=1)) == 1
    with pytest.raises(InvalidInput, match="status must be one of") as bad:
        services.alfred.list(deck, status="sleeping")
    assert bad.value.field == "status"


def test_an_execution_is_shown_with_rfc3339_times(built: tuple[Services, TestClient]) -> None:
    services, client = built
    deck = services.instances.get("deck")
    h = capture(client, "text/plain")["h_entrada"]
    row = services.alfred.get(deck, services.alfred.start(deck, "two", h_entrada=h))  # at NOW
    shown = execution_json(row)
    assert shown["executionId"] == row.id and shown["flow"] == "two"
    assert (shown["flowVersion"], shown["h_entrada"], shown["status"]) == (1, h, "queued")
    assert shown["createdAt"] == "2031-05-06T07:08:09Z"
    assert shown["startedAt"] is None and shown["finishedAt"] is None
    assert set(shown) == {
        "executionId", "flow", "flowVersion", "h_entrada", "input", "status", "steps",
        "decision", "outcome", "error", "attempt", "createdAt", "startedAt", "finishedAt",
    }  # fmt: skip
