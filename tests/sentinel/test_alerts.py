"""SENTINEL's alert rules: they open, publish the critical ones to an ntfy server (a
local HTTP receiver here), are acknowledged and resolved, and close when the condition
clears."""

import base64
from datetime import UTC, datetime, timedelta

from tests.conftest import Live
from tests.sentinel.conftest import Receiver, kinds
from tzzr.sentinel.events import emit_now


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
        opened = {a["rule"]: a for a in services.alerts.evaluate(later)}
        assert opened["failure_rate"]["severity"] == "warning"
        assert "6 of 6 runs failed" in opened["failure_rate"]["message"]
        assert opened["block_overdue"]["severity"] == "critical"
        (late,) = opened["block_overdue"]["data"]["instances"]
        assert late["since"].endswith("Z")  # RFC 3339 with Z, like every timestamp
        assert opened["block_overdue"]["openedAt"].endswith("Z")
        (post,) = ntfy.posts  # only the critical one is published
        assert post["path"] == "/tzzr-alerts"
        assert post["headers"]["Title"] == "TZZR: block overdue"
        assert post["headers"]["Priority"] == "urgent"
        assert "rotating_light" in post["headers"]["Tags"]
        assert post["headers"]["Authorization"] == "Bearer tk_secret"
        assert post["body"] == "block overdue in instance deck: see /sentinel/alerts"
        services.alerts.evaluate(later)  # still firing: no second alert, no second message
        assert len(ntfy.posts) == 1
        assert len(client.get("/sentinel/alerts", params={"state": "open"}).json()["alerts"]) == 2
        alert_id = opened["failure_rate"]["id"]
        acked = client.post(f"/sentinel/alerts/{alert_id}/acknowledge")
        assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
        assert client.post(f"/sentinel/alerts/{alert_id}/acknowledge").status_code == 409
        assert client.post(f"/sentinel/alerts/{alert_id}/resolve").json()["state"] == "resolved"
        assert client.post("/sentinel/alerts/9999/resolve").status_code == 404
        client.post("/consolidate")  # the block is sealed: that condition clears
        still = {a["rule"] for a in services.alerts.evaluate(datetime.now(UTC))}
        assert "block_overdue" not in still
        states = {a["rule"]: a["state"] for a in client.get("/sentinel/alerts").json()["alerts"]}
        assert states["block_overdue"] == "resolved"
        emit_now(
            services.engine,
            "audit_result",
            severity="critical",
            data={"problems": 2, "first": "leaf 3: hash differs"},
        )
        fired = {a["rule"]: a for a in services.alerts.evaluate(datetime.now(UTC))}
        assert "leaf 3: hash differs" in fired["audit_failure"]["message"]
        assert ntfy.posts[-1]["headers"]["Title"] == "TZZR: audit failure"
        assert "alert" in kinds(client, kind="alert")
