"""What belongs to an instance stays there: alerts per instance, the migration that made
flows per-instance copies of the shipped templates, and a data directory only its owner
can read. Each instance's own flows are in tests/flows/test_store.py; the operator's
server-wide view is in tests/api/test_operator.py."""

import json
import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select, text

from tests.conftest import make_settings, postgres_database, running
from tzzr.db.engine import create_db_engine
from tzzr.db.models import RegisteredCell, Run, SentinelAlert
from tzzr.flows.defaults import DEFAULT_FLOWS


def test_alerts_belong_to_their_instance_or_to_the_operator(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", alert_queue_lag_seconds=1.0, block_interval=0)
    with running(settings) as live:
        services = live.services
        deck = services.instances.get("deck")
        corp = services.add_instance("corp", default_flows=False)
        corp_admin, _ = services.keys.create("corp", "admin")
        old = datetime.now(UTC) - timedelta(minutes=5)
        with services.engine.begin() as conn:
            for n in range(6):  # deck's runs fail; corp's do not run at all
                conn.execute(
                    insert(Run).values(
                        h_instancia=deck.h_instancia,
                        id=f"r{n}",
                        cell_id="test-echo",
                        cell_version="1.0.0",
                        queue="cpu",
                        status="failed" if n else "queued",
                        input_sha="0" * 64,
                        input_type="bytes",
                        params={},
                        params_hash="0" * 64,
                        attempt=1,
                        max_attempts=3,
                        timeout_s=60,
                        created_at=old,
                        finished_at=None if n == 0 else datetime.now(UTC),
                    )
                )
        opened = services.alerts.evaluate()
        assert {a["rule"] for a in opened} == {"failure_rate", "queue_lag"}
        with services.engine.connect() as conn:
            rows = {r.rule: r.h_instancia for r in conn.execute(select(SentinelAlert))}
        assert rows == {"failure_rate": deck.h_instancia, "queue_lag": None}
        with live.client() as client:
            mine = client.get("/sentinel/alerts").json()["alerts"]
            assert [a["rule"] for a in mine] == ["failure_rate"]
            alert_id = mine[0]["id"]
        with live.client(corp_admin) as corp_client:
            assert corp_client.get("/sentinel/alerts").json()["alerts"] == []
            assert corp_client.post(f"/sentinel/alerts/{alert_id}/resolve").status_code == 404
        operator, _ = services.keys.create_operator()
        server = httpx.get(
            f"{live.url}/operator/alerts", headers={"Authorization": f"Bearer {operator}"}
        ).json()["alerts"]
        assert [a["rule"] for a in server] == ["queue_lag"]
        assert corp.h_instancia not in json.dumps(server)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
@pytest.mark.parametrize("names", [("deck",), ("deck", "corp")])
def test_migration_0004_gives_no_instance_anothers_configuration(
    tmp_path: Path, db: str, names: tuple[str, ...]
) -> None:
    """A database of 0.1 (server-wide flows and cells, runs keyed by id alone): one
    instance gets everything; several get the shipped flows they had, and the rest is
    parked (deleted flows, an `upgrade` event), never handed to another instance."""
    from alembic import command
    from alembic.config import Config

    from tzzr.db.engine import MIGRATIONS
    from tzzr.flows.spec import validate

    url = f"sqlite:///{tmp_path / 'old.db'}" if db == "sqlite" else postgres_database()
    engine = create_db_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    hashes = {name: name[0] * 64 for name in names}
    shipped = validate(DEFAULT_FLOWS[0]).model_dump(mode="json", by_alias=True)
    with engine.begin() as conn:
        for name, h in hashes.items():
            conn.execute(
                text(
                    "INSERT INTO instances (name, h_instancia, seed, blob_prefix, created_at) "
                    "VALUES (:n, :h, 's', :n, :t)"
                ),
                {"n": name, "h": h, "t": now},
            )
        for row in (
            {"id": "mine", "version": 1, "spec": json.dumps({"id": "mine"})},
            {"id": shipped["id"], "version": 1, "spec": json.dumps(shipped)},
        ):
            conn.execute(
                text(
                    "INSERT INTO flows (id, version, spec, deleted, created_at) "
                    "VALUES (:id, :version, :spec, false, :t)"
                ),
                {**row, "t": now},
            )
        conn.execute(
            text(
                "INSERT INTO cells (id, version, meta, module, accepts, defaults, token, "
                "created_at) VALUES ('remote', '1.0.0', '{}', 'M', '[]', '{}', 'tok', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, h_instancia, cell_id, cell_version, queue, status, "
                "input_sha, input_type, params, params_hash, attempt, max_attempts, timeout_s, "
                "created_at) VALUES ('r1', :h, 'c', '1', 'cpu', 'done', 'x', 'bytes', '{}', "
                "'p', 1, 3, 60, :t)"
            ),
            {"h": hashes["deck"], "t": now},
        )
        conn.execute(
            text(
                "INSERT INTO run_artifacts (run_id, name, sha256, media_type, size) "
                "VALUES ('r1', 'out.png', 'y', 'image/png', 3)"
            )
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    from tzzr.flows.store import FlowStore

    store = FlowStore(engine)
    with engine.connect() as conn:
        cells = sorted(conn.execute(select(RegisteredCell.h_instancia, RegisteredCell.id)).all())
        artifact = conn.execute(text("SELECT h_instancia, run_id FROM run_artifacts")).one()
        events = conn.execute(text("SELECT kind, h_instancia, data FROM sentinel_events")).all()
    for h in hashes.values():  # the shipped flow, as it was, is everyone's
        assert shipped["id"] in {row.id for row in store.live(h)}
    if len(names) == 1:
        assert {row.id for row in store.live(hashes["deck"])} == {"mine", shipped["id"]}
        assert cells == [(hashes["deck"], "remote")]
        assert events == []
    else:
        for h in hashes.values():
            assert "mine" not in {row.id for row in store.live(h)}
            assert store.get(h, "mine", 1).spec == {"id": "mine"}  # kept, to restore
        assert cells == []
        ((kind, owner, data),) = events
        data = json.loads(data) if isinstance(data, str) else data
        assert kind == "upgrade" and owner is None
        assert [f["id"] for f in data["flows"]] == ["mine"]
        assert [c["id"] for c in data["cells"]] == ["remote"]
        assert "tok" not in json.dumps(data)  # tokens are never written out
    assert tuple(artifact) == (hashes["deck"], "r1")
    if db == "postgresql":
        with engine.connect() as conn:
            names_pg = set(
                conn.execute(
                    text(
                        "SELECT conname FROM pg_constraint WHERE conrelid IN "
                        "('flows'::regclass, 'cells'::regclass, 'runs'::regclass)"
                    )
                ).scalars()
            )
        assert {"flows_pkey", "cells_pkey", "runs_pkey"} <= names_pg
        assert not [name for name in names_pg if "_new" in name]
    engine.dispose()


def test_the_data_directory_is_its_owners_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    (home / "old.db").write_bytes(b"")
    (home / "old.db").chmod(0o644)  # as an older version left it

    def tzzr(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TZZR_HOME": str(home)}
        done = subprocess.run(
            [sys.executable, "-m", "tzzr", *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done

    tzzr("instances", "add", "deck")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "old.db").stat().st_mode) == 0o600
    database = home / "tzzr.db"
    assert stat.S_IMODE(database.stat().st_mode) & 0o077 == 0
    keys = tzzr("keys", "create", "--operator")
    assert keys.stdout.strip().startswith("tzzr_") and keys.stdout.strip() not in keys.stderr


@pytest.mark.timeout(60)
def test_serve_prints_the_first_key_once(tmp_path: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "TZZR_HOME": str(tmp_path / "home"),
        "TZZR_EMBEDDED_WORKER": "false",
        "TZZR_BLOCK_INTERVAL": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tzzr", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        key = server.stdout.readline().strip()
        deadline = time.monotonic() + 30
        while True:  # up: everything it prints at start is printed
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert key.startswith("tzzr_")
    assert (key + out + err).count(key) == 1  # on stdout, once; never in the log's hint
    assert "$KEY" in err
