"""SENTINEL over HTTP (tzzr.api.sentinel): an instance's events with filters and a
cursor, its alerts by state, acknowledging needing admin, `/metrics` for the scraper's
token."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_settings, running
from tzzr.sentinel.events import emit_now

T0 = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home: Path = tmp_path_factory.mktemp("sentinel-api")
    with running(make_settings(home / "home", metrics_token="scrape-me")) as server:
        services = server.services
        corp = services.add_instance("corp", default_flows=False)
        deck = services.instances.get("deck").h_instancia
        for n in range(7):
            emit_now(
                services.engine,
                "run_failed" if n % 2 else "run_done",
                severity="error" if n % 2 else "info",
                h_instancia=deck,
                subject=f"run-{n}",
                data={"n": n},
                ts=T0 + timedelta(minutes=n),
            )
        emit_now(services.engine, "run_done", h_instancia=corp.h_instancia, subject="corp-run")
        yield server


def events(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    answer = client.get("/sentinel/events", params=params)
    assert answer.status_code == 200, answer.text
    return [e for e in answer.json()["events"] if str(e["subject"] or "").startswith("run-")]


def test_filters_select_by_kind_severity_time_and_subject(live: Live) -> None:
    with live.client() as client:
        assert [e["subject"] for e in events(client, kind="run_failed")] == [
            "run-5",
            "run-3",
            "run-1",
        ]
        assert {e["severity"] for e in events(client, severity="error")} == {"error"}
        window = events(
            client,
            since=(T0 + timedelta(minutes=2)).isoformat(),
            until=(T0 + timedelta(minutes=4)).isoformat(),
        )
        assert [e["subject"] for e in window] == ["run-3", "run-2"]  # until is exclusive
        (one,) = events(client, subject="run-4")
        assert one["kind"] == "run_done" and one["data"] == {"n": 4}
        assert one["ts"] == "2030-01-01T00:04:00Z"
        assert client.get("/sentinel/events", params={"severity": "loud"}).status_code == 422
        assert client.get("/sentinel/events", params={"limit": 0}).status_code == 422


def test_the_cursor_visits_every_event_once_newest_first(live: Live) -> None:
    seen: list[int] = []
    cursor = None
    with live.client() as client:
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/sentinel/events", params=params).json()
            seen += [e["id"] for e in page["events"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        everything = client.get("/sentinel/events", params={"limit": 500}).json()["events"]
    assert seen == [e["id"] for e in everything] and seen == sorted(seen, reverse=True)
    assert "corp-run" not in [e["subject"] for e in everything]  # another instance's


def test_reading_needs_read_and_changing_an_alert_needs_admin(live: Live) -> None:
    ingest, _ = live.services.keys.create("deck", "ingest")
    read, _ = live.services.keys.create("deck", "read")
    with live.client(ingest) as client:
        assert client.get("/sentinel/events").status_code == 403
        assert client.get("/sentinel/alerts").status_code == 403
    with live.client(read) as client:
        assert client.get("/sentinel/alerts", params={"state": "open"}).json() == {"alerts": []}
        assert client.post("/sentinel/alerts/1/acknowledge").status_code == 403
    with live.client() as admin:
        assert admin.post("/sentinel/alerts/1/acknowledge").status_code == 404
        assert admin.post("/sentinel/alerts/0/resolve").status_code == 422


def test_metrics_take_the_scrapers_token_and_nothing_else_but_an_operator(live: Live) -> None:
    url = f"{live.url}/metrics"
    assert (
        httpx.get(url, headers={"Authorization": "Bearer scrape-me"}, timeout=30).status_code == 200
    )
    refused = httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=30)
    assert refused.status_code == 401
    assert "TZZR_METRICS_TOKEN" in refused.json()["error"]["message"]
    with live.client() as admin:  # an instance's admin is not the server's operator
        assert admin.get("/metrics").status_code == 403
