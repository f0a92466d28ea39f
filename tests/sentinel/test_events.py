"""SENTINEL's events: every service records them, they are read with filters and a
cursor, and they have a retention: older rows go in bounded batches, recent ones stay."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, insert, select

from tests.conftest import Live, make_settings
from tests.sentinel.conftest import kinds
from tzzr.db.models import SentinelEvent
from tzzr.flows.spec import validate
from tzzr.sentinel import events
from tzzr.sentinel.events import prune
from tzzr.services import Services


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


@pytest.mark.parametrize("backend", ["sqlite-local", "postgresql-local"])
def test_old_events_are_deleted_in_batches_and_recent_ones_kept(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = Services.build(make_settings(tmp_path / "home", backend))
    now = datetime(2030, 6, 1, tzinfo=UTC)
    ages = [400] * 23 + [91] * 4 + [89] * 5 + [0] * 3  # days
    try:
        with services.engine.begin() as conn:
            conn.execute(
                insert(SentinelEvent),
                [
                    {
                        "ts": now - timedelta(days=age, seconds=n),
                        "h_instancia": None,
                        "kind": "ingest",
                        "severity": "info",
                        "subject": f"{age}-{n}",
                        "data": {},
                    }
                    for n, age in enumerate(ages)
                ],
            )
        monkeypatch.setattr(events, "PRUNE_BATCH", 5)  # 27 old rows: six batches
        assert prune(services.engine, 0, now) == 0  # 0 keeps every event
        assert prune(services.engine, 90, now) == 27
        with services.engine.connect() as conn:
            kept = conn.execute(select(SentinelEvent.subject)).scalars().all()
            oldest = conn.execute(select(func.min(SentinelEvent.ts))).scalar()
        assert sorted(str(s).split("-")[0] for s in kept) == ["0"] * 3 + ["89"] * 5
        assert oldest is not None and now - oldest < timedelta(days=90)
        assert prune(services.engine, 90, now) == 0
    finally:
        services.close()


def test_a_sweep_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services.build(make_settings(tmp_path / "home"))
    now = datetime(2030, 6, 1, tzinfo=UTC)
    try:
        with services.engine.begin() as conn:
            conn.execute(
                insert(SentinelEvent),
                [
                    {
                        "ts": now - timedelta(days=200),
                        "kind": "ingest",
                        "severity": "info",
                        "data": {},
                    }
                ]
                * 12,
            )
        monkeypatch.setattr(events, "PRUNE_BATCH", 2)
        monkeypatch.setattr(events, "PRUNE_MAX_BATCHES", 3)
        assert prune(services.engine, 30, now) == 6  # the rest waits for the next sweep
        assert prune(services.engine, 30, now) == 6
        assert prune(services.engine, 30, now) == 0
    finally:
        services.close()
