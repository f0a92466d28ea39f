"""MASON (tzzr.mason): its 24-hour window with an injectable clock; the deadline sends
an item to FELDMAN by itself, also when the server was down at that moment (swept on
start)."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tzzr.app import create_app
from tzzr.flows.spec import validate
from tzzr.services import Services

FLOW = {
    "id": "always-incident",
    "trigger": {"on": "ingest", "match": {"mediaType": ["application/x-incident"]}},
    "steps": [{"id": "a", "cell": "test-echo"}],
    "decision": "false",
}


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_the_deadline_consolidates_an_item_even_across_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", enrich_window=3600)
    clock = Clock()
    services = Services.build(settings, clock=clock)
    key = services.bootstrap()
    services.flows.create(services.instances.get("deck").h_instancia, validate(FLOW))
    client = TestClient(create_app(services))
    client.headers["Authorization"] = f"Bearer {key}"
    hs = []
    for n in range(2):
        captured = client.post(
            "/ingest",
            data={"metadata": f'{{"n": {n}}}'},
            files={"file": ("x", b"x", "application/x-incident")},
        ).json()
        (execution,) = client.get(
            "/executions", params={"h_entrada": captured["h_entrada"]}
        ).json()["executions"]
        assert services.alfred.advance(execution["executionId"], "test") == "done"
        hs.append(captured["h_entrada"])
    assert [client.get(f"/entries/{h}").json()["state"] for h in hs] == ["enriching"] * 2
    item = client.get(f"/enrich/{hs[0]}").json()
    assert item["secondsLeft"] == 3600

    clock.offset = timedelta(minutes=59)
    assert services.mason.sweep() == 0
    assert client.get(f"/enrich/{hs[0]}").json()["secondsLeft"] == 60
    clock.offset = timedelta(minutes=61)
    assert services.mason.sweep() == 2  # both, while "running"
    assert client.get(f"/enrich/{hs[0]}").json()["state"] == "expired"
    assert client.get(f"/entries/{hs[0]}").json()["state"] == "consolidated"
    assert client.get("/enrich", params={"state": "pending"}).json()["items"] == []
    services.close()

    # another item; the server stops; it is down when the deadline passes; on start the
    # sweep consolidates it
    clock.offset = timedelta(0)
    services = Services.build(settings, clock=clock)
    with TestClient(create_app(services)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        captured = client.post(
            "/ingest",
            data={"metadata": '{"n": 3}'},
            files={"file": ("x", b"x", "application/x-incident")},
        ).json()
        (execution,) = client.get(
            "/executions", params={"h_entrada": captured["h_entrada"]}
        ).json()["executions"]
        services.alfred.advance(execution["executionId"], "test")
        assert client.get(f"/enrich/{captured['h_entrada']}").json()["state"] == "pending"
    clock.offset = timedelta(hours=2)  # ... while nothing runs
    services = Services.build(settings, clock=clock)
    with TestClient(create_app(services)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        deadline = time.monotonic() + 10
        while client.get(f"/enrich/{captured['h_entrada']}").json()["state"] != "expired":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.get(f"/entries/{captured['h_entrada']}").json()["state"] == "consolidated"
        block = client.post("/consolidate").json()["block"]
        assert block is not None
        assert client.get(f"/receipt/{captured['h_entrada']}").status_code == 200


def test_an_enriched_item_goes_to_feldman_at_once_and_the_schema_is_the_instances(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "home")
    services = Services.build(settings)
    key = services.bootstrap()
    services.flows.create(services.instances.get("deck").h_instancia, validate(FLOW))
    services.mason.set_schema(
        "deck",
        {
            "type": "object",
            "required": ["vendor"],
            "properties": {"vendor": {"type": "string", "minLength": 2}},
        },
    )
    client = TestClient(create_app(services))
    client.headers["Authorization"] = f"Bearer {key}"
    h = client.post(
        "/ingest", data={"metadata": "{}"}, files={"file": ("x", b"y", "application/x-incident")}
    ).json()["h_entrada"]
    (execution,) = client.get("/executions", params={"h_entrada": h}).json()["executions"]
    services.alfred.advance(execution["executionId"], "test")
    assert client.get(f"/enrich/{h}").json()["schema"]["required"] == ["vendor"]
    missing = client.put(f"/enrich/{h}", json={"fields": {}})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "fields.vendor"
    short = client.put(f"/enrich/{h}", json={"fields": {"vendor": "x"}})
    assert short.status_code == 422 and short.json()["error"]["field"] == "fields.vendor"
    assert client.get(f"/entries/{h}").json()["state"] == "enriching"  # nothing half written
    assert client.get(f"/enrich/{h}").json()["history"] == []
    ok = client.put(f"/enrich/{h}", json={"fields": {"vendor": "Muñoz"}})
    assert ok.status_code == 200 and ok.json()["state"] == "enriched"
    assert client.get(f"/entries/{h}").json()["state"] == "consolidated"
    assert client.get("/enrich/" + "0" * 64).status_code == 404
    assert client.get("/enrich", params={"state": "bogus"}).status_code == 422
    services.close()
