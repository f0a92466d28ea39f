"""SENTINEL: events from every service, alert rules with delivery to an ntfy server (a
local HTTP receiver here), Prometheus metrics, JSON logs."""

import base64
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_settings, running
from tzzr.flows.spec import validate
from tzzr.sentinel.alerts import evaluate
from tzzr.sentinel.events import emit_now
from tzzr.sentinel.logs import JsonFormatter


class Receiver:
    """An ntfy stand-in: records each POST's path, headers and body."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"x"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def ntfy() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def live(tmp_path: Path, ntfy: Receiver) -> Iterator[Live]:
    settings = make_settings(
        tmp_path / "home",
        ntfy_url=f"{ntfy.url}/tzzr-alerts",
        ntfy_token="tk_secret",
        block_interval=60,
        alert_interval=0,
    )
    with running(settings) as server:
        yield server


def kinds(client: httpx.Client, **params: Any) -> list[str]:
    return [e["kind"] for e in client.get("/sentinel/events", params=params).json()["events"]]


def test_every_service_records_events(live: Live) -> None:
    services = live.services
    services.flows.create(
        services.instances.get("deck").h_instancia,
        validate(
            {
                "id": "incident",
                "trigger": {"on": "ingest", "match": {"mediaType": ["application/x-i"]}},
                "steps": [{"id": "a", "cell": "test-echo"}],
                "decision": "false",
            }
        ),
    )
    with live.client() as client:
        h = client.post(
            "/ingest", data={"metadata": "{}"}, files={"file": ("n.txt", b"note", "text/plain")}
        ).json()["h_entrada"]
        assert (
            client.post(
                "/ingest", data={"metadata": "{}"}, files={"file": ("n.txt", b"note", "text/plain")}
            ).status_code
            == 409
        )
        assert (
            httpx.get(
                f"{live.url}/entries", headers={"Authorization": "Bearer tzzr_nokey_nothing"}
            ).status_code
            == 401
        )
        run_id = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "base64", "content": "eA=="}},
        ).json()["runId"]
        services.executor("t").execute(run_id)
        i = client.post(
            "/ingest", data={"metadata": "{}"}, files={"file": ("i", b"i", "application/x-i")}
        ).json()["h_entrada"]
        (execution,) = client.get("/executions", params={"h_entrada": i}).json()["executions"]
        services.alfred.advance(execution["executionId"], "t")
        client.put(f"/enrich/{i}", json={"fields": {"note": "looked at it"}})
        client.post("/consolidate")
        seen = kinds(client)
        for kind in (
            "ingest",
            "duplicate",
            "run_queued",
            "run_started",
            "run_done",
            "flow_decision",
            "enrichment",
            "block_sealed",
        ):
            assert kind in seen, kind
        (ingest,) = list(
            client.get("/sentinel/events", params={"kind": "ingest", "subject": h}).json()["events"]
        )
        assert ingest["data"]["files"] == 1 and ingest["data"]["bytes"] == 4
        # A failed sign-in belongs to no instance: only an operator reads it.
        assert not client.get("/sentinel/events", params={"kind": "auth_failure"}).json()["events"]
        operator, _ = services.keys.create_operator()
        failure = httpx.get(
            f"{live.url}/operator/events",
            params={"kind": "auth_failure"},
            headers={"Authorization": f"Bearer {operator}"},
        ).json()["events"][0]
        assert failure["severity"] == "warning" and failure["data"]["reason"] == "invalid API key"
        assert failure["data"]["count"] == 1 and failure["data"]["address"] == "127.0.0.1"
        page = client.get("/sentinel/events", params={"limit": 3}).json()
        more = client.get(
            "/sentinel/events", params={"limit": 3, "cursor": page["next_cursor"]}
        ).json()
        assert len(page["events"]) == 3 and more["events"][0]["id"] < page["events"][-1]["id"]
        assert client.get("/sentinel/events", params={"kind": "nope"}).status_code == 422
        assert client.get("/sentinel/events", params={"cursor": "bad"}).status_code == 422


def test_alerts_open_publish_to_ntfy_and_close(live: Live, ntfy: Receiver) -> None:
    services = live.services
    with live.client() as client:
        for n in range(6):  # six failed runs: the failure rate is 100%
            body = {
                "input": {
                    "type": "bytes",
                    "encoding": "base64",
                    "content": base64.b64encode(b"%d" % n).decode(),
                },
                "params": {"fail": "input"},
            }
            services.executor("t").execute(
                client.post("/api/cells/test-echo/run", json=body).json()["runId"]
            )
        client.post(
            "/ingest", data={"metadata": "{}"}, files={"file": ("w.txt", b"waiting", "text/plain")}
        )
        later = datetime.now(UTC) + timedelta(minutes=5)  # a block was due 60 s after start
        opened = {a["rule"]: a for a in evaluate(services, later)}
        assert opened["failure_rate"]["severity"] == "warning"
        assert "6 of 6 runs failed" in opened["failure_rate"]["message"]
        assert opened["block_overdue"]["severity"] == "critical"
        (post,) = ntfy.posts  # only the critical one is published
        assert post["path"] == "/tzzr-alerts"
        assert post["headers"]["Title"] == "TZZR: block overdue"
        assert post["headers"]["Priority"] == "urgent"
        assert "rotating_light" in post["headers"]["Tags"]
        assert post["headers"]["Authorization"] == "Bearer tk_secret"
        assert post["body"] == "block overdue in instance deck: see /sentinel/alerts"
        evaluate(services, later)  # still firing: no second alert, no second message
        assert len(ntfy.posts) == 1
        assert len(client.get("/sentinel/alerts", params={"state": "open"}).json()["alerts"]) == 2
        alert_id = opened["failure_rate"]["id"]
        acked = client.post(f"/sentinel/alerts/{alert_id}/acknowledge")
        assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
        assert client.post(f"/sentinel/alerts/{alert_id}/acknowledge").status_code == 409
        assert client.post(f"/sentinel/alerts/{alert_id}/resolve").json()["state"] == "resolved"
        assert client.post("/sentinel/alerts/9999/resolve").status_code == 404
        client.post("/consolidate")  # the block is sealed: that condition clears
        still = {a["rule"] for a in evaluate(services, datetime.now(UTC))}
        assert "block_overdue" not in still
        states = {a["rule"]: a["state"] for a in client.get("/sentinel/alerts").json()["alerts"]}
        assert states["block_overdue"] == "resolved"
        emit_now(
            services.engine,
            "audit_result",
            severity="critical",
            data={"problems": 2, "first": "leaf 3: hash differs"},
        )
        fired = {a["rule"]: a for a in evaluate(services, datetime.now(UTC))}
        assert "leaf 3: hash differs" in fired["audit_failure"]["message"]
        assert ntfy.posts[-1]["headers"]["Title"] == "TZZR: audit failure"
        assert "alert" in kinds(client, kind="alert")


def test_metrics_in_prometheus_text_format(tmp_path: Path) -> None:
    with (
        running(make_settings(tmp_path / "home", metrics_token="m3trics")) as live,
        live.client() as client,
    ):
        client.post("/ingest", data={"metadata": "{}"}, files={"file": ("a", b"a", "text/plain")})
        client.post("/ingest", data={"metadata": "{}"}, files={"file": ("a", b"a", "text/plain")})
        client.post("/consolidate")
        assert httpx.get(f"{live.url}/metrics").status_code == 401
        text = httpx.get(f"{live.url}/metrics", headers={"Authorization": "Bearer m3trics"}).text
    assert "tzzr_ingests_total 1.0" in text
    assert "tzzr_duplicates_total 1.0" in text
    assert (
        'tzzr_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/ingest",status="2xx"}'
        in text
    )
    assert 'route="/blobs/{sha256}"' not in text or "sha256=" not in text  # templates, never values
    assert 'tzzr_runs{status="done"} 0.0' in text
    assert 'tzzr_queue_depth{queue="cpu"} 0.0' in text
    assert "tzzr_ledger_leaves 1.0" in text
    assert "tzzr_seconds_since_last_block " in text


def test_json_logs_are_one_object_per_line() -> None:
    record = logging.LogRecord(
        "tzzr.test", logging.WARNING, __file__, 1, "run %s lost", ("r1",), None
    )
    record.run_id = "r1"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["message"] == "run r1 lost"
    assert entry["logger"] == "tzzr.test" and entry["run_id"] == "r1" and entry["ts"].endswith("Z")
