"""Events have a retention: older rows go in bounded batches, recent ones stay."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from tests.conftest import make_settings
from tzzr.db.models import SentinelEvent
from tzzr.sentinel import events
from tzzr.sentinel.events import prune
from tzzr.services import Services


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
