"""The ASGI application (app.py): `create_app` puts the same Services the CLI builds
behind HTTP: /health, / listing the documented endpoints, the static files, and a
lifespan that starts the server's periodic scheduler and, at shutdown, stops it (its
turns given back) and closes the services. The routes themselves are tests/api's."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.conftest import make_settings
from tzzr import __version__, periodic
from tzzr.app import create_app
from tzzr.config import Settings
from tzzr.db.engine import create_db_engine, dispose
from tzzr.db.models import WorkLease
from tzzr.services import Services
from tzzr.work.scheduler import Scheduler


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def services(settings: Settings) -> Services:
    built = Services.build(settings)  # the app's lifespan closes it
    built.bootstrap()
    return built


@pytest.fixture
def watcher(settings: Settings) -> Iterator[Engine]:
    """The same database, seen from outside the app."""
    engine = create_db_engine(settings.database_url)
    yield engine
    dispose(engine)


def turns(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {row.name: row for row in conn.execute(select(WorkLease)).all()}


def test_health_and_the_endpoints_it_offers(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "version": __version__}
        assert health.headers["x-content-type-options"] == "nosniff"  # on every answer
        root = client.get("/").json()
        assert root["name"] == "TZZR" and root["version"] == __version__
        endpoints = root["endpoints"]
        assert {"GET /health", "POST /ingest", "GET /entries", "POST /grace/runsync"} <= set(
            endpoints
        )
        assert "GET /" not in endpoints  # itself undocumented
        assert len(endpoints) == len(set(endpoints))
        documented = client.get("/openapi.json").json()["paths"]
        assert {e.split(" ", 1)[1] for e in endpoints} == set(documented)
        assert client.get("/docs").status_code == 404  # no page loading assets from a CDN
        css = client.get("/app/static/app.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_the_lifespan_starts_and_stops_the_scheduler(
    services: Services, watcher: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Scheduler] = []
    ended: list[str] = []
    real = periodic.server_scheduler

    def recorded(given: Services) -> Scheduler:
        assert given is services
        scheduler = real(given)
        stop = scheduler.stop

        def stopping(timeout: float = 10.0) -> None:
            ended.append("stop")
            stop(timeout)

        monkeypatch.setattr(scheduler, "stop", stopping)
        started.append(scheduler)
        return scheduler

    close = services.close

    def closing() -> None:
        ended.append("close")
        close()

    monkeypatch.setattr(periodic, "server_scheduler", recorded)
    monkeypatch.setattr(services, "close", closing)
    app = create_app(services)
    assert started == []  # nothing runs before the server starts
    with TestClient(app) as client:
        (scheduler,) = started
        deadline = time.monotonic() + 10
        at_start = {"mason-sweep", "reap-jobs", "seal"}
        while not at_start <= set(turns(watcher)):  # their first turns, at start
            assert time.monotonic() < deadline, turns(watcher)
            time.sleep(0.01)
        held = turns(watcher)
        assert "sentinel-alerts" not in held  # evaluated after a first period
        assert all(row.holder == scheduler.holder for row in held.values())
        assert held["mason-sweep"].lease_until > datetime.now(UTC)
        assert client.get("/health").status_code == 200
        assert ended == []
    assert ended == ["stop", "close"]  # the scheduler first, then what it uses
    given_back = turns(watcher)
    now = datetime.now(UTC)
    assert all(row.lease_until <= now for row in given_back.values())  # stopped: given back


def test_each_app_its_own_services(tmp_path: Path) -> None:
    apps = []
    for name in ("one", "two"):
        built = Services.build(make_settings(tmp_path / name))
        apps.append((built, create_app(built)))
    for built, app in apps:
        assert app.state.services is built
        with TestClient(app) as client:
            assert client.get("/health").json()["status"] == "ok"
