"""`tzzr search`: from TZZR_HOME and through a server; `tzzr search reindex`."""

import json
from pathlib import Path

from sqlalchemy import delete
from typer.testing import CliRunner

from tests.conftest import make_settings, running
from tzzr.cli import app
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import SearchDoc
from tzzr.services import Services


def test_local_search_reindex_and_errors(runner: CliRunner, home: Path, tmp_path: Path) -> None:
    Services.build(Settings()).bootstrap()
    note = tmp_path / "ticket.txt"
    note.write_text("x")
    assert (
        runner.invoke(app, ["ingest", str(note), "--meta", "note=Panadería Muñoz"]).exit_code == 0
    )
    table = runner.invoke(app, ["search", "panaderia"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Panadería Muñoz" in table.stdout
    answer = json.loads(runner.invoke(app, ["search", "panad", "--json"]).stdout)
    assert [r["title"] for r in answer["results"]] == ["Panadería Muñoz"]
    services = Services.build(Settings())
    with write_transaction(services.engine) as conn:
        conn.execute(delete(SearchDoc))
    assert json.loads(runner.invoke(app, ["search", "munoz", "--json"]).stdout)["results"] == []
    rebuilt = runner.invoke(app, ["search", "reindex"])
    assert rebuilt.exit_code == 0 and "indexed 1 entry" in rebuilt.output
    assert len(json.loads(runner.invoke(app, ["search", "munoz", "--json"]).stdout)["results"]) == 1
    nothing = runner.invoke(app, ["search", "zapateria"])
    assert nothing.exit_code == 0 and "nothing matches 'zapateria'" in nothing.output
    refused = runner.invoke(app, ["search", "--", "-pan"])
    assert refused.exit_code == 2 and "say what to find" in refused.output
    services.close()


def test_search_through_a_server(runner: CliRunner, tmp_path: Path) -> None:
    with running(make_settings(tmp_path / "srv")) as live:
        note = tmp_path / "n.txt"
        note.write_text("x")
        sent = runner.invoke(
            app,
            [
                "ingest",
                str(note),
                "--url",
                live.url,
                "--key",
                live.admin_key,
                "--meta",
                "note=Café Sol",
            ],
        )
        assert sent.exit_code == 0, sent.output
        found = runner.invoke(
            app, ["search", "cafe", "--json", "--url", live.url, "--key", live.admin_key]
        )
        assert found.exit_code == 0, found.output
        assert [r["title"] for r in json.loads(found.stdout)["results"]] == ["Café Sol"]
        bad = runner.invoke(
            app, ["search", "x", "--url", live.url, "--key", live.admin_key, "--decision", "maybe"]
        )
        assert bad.exit_code == 1 and "decision must be ok or incident" in bad.output
        keyless = runner.invoke(app, ["search", "x", "--url", live.url])
        assert keyless.exit_code == 2
