"""The CLI builds the same services as the server."""

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import running
from tzzr.cli import app
from tzzr.config import Settings
from tzzr.services import Services

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZZR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_instances_and_keys(home: Path, tmp_path: Path) -> None:
    schema = tmp_path / "corp.json"
    schema.write_text(json.dumps({"type": "object", "required": ["company_id"]}))
    added = runner.invoke(app, ["instances", "add", "corp", "--fields-schema", str(schema)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["instances", "list"])
    assert "corp" in listed.stdout

    created = runner.invoke(app, ["keys", "create", "--instance", "corp", "--role", "read"])
    assert created.exit_code == 0
    key = created.stdout.strip()
    assert key.startswith("tzzr_") and "\n" not in key  # only the key on stdout
    services = Services.build(Settings())
    assert services.keys.authenticate(f"Bearer {key}").role == "read"

    key_id = key.split("_")[1]
    assert key_id in runner.invoke(app, ["keys", "list"]).stdout
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 1
    services.close()


def test_errors_are_one_line_and_nonzero(home: Path) -> None:
    missing = runner.invoke(app, ["keys", "create", "--instance", "nope"])
    assert missing.exit_code == 1
    assert "no instance named 'nope'" in missing.stderr
    bad = runner.invoke(app, ["instances", "add", "Bad Name"])
    assert bad.exit_code == 1


def test_local_ingest_new_then_duplicate(home: Path, tmp_path: Path) -> None:
    Services.build(Settings()).bootstrap()
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "a.txt").write_text("alpha")
    (folder / "b.txt").write_text("beta")
    first = runner.invoke(app, ["ingest", str(folder), "--meta", "source=cli"])
    assert first.exit_code == 0, first.output
    lines = [line.split("\t") for line in first.stdout.splitlines()]
    assert [line[0] for line in lines] == ["new", "new"]
    again = runner.invoke(app, ["ingest", str(folder / "a.txt"), "--meta", "source=cli"])
    assert again.stdout.split("\t")[:2] == ["duplicate", lines[0][1]]
    assert runner.invoke(app, ["ingest", str(folder / "nope")]).exit_code == 2
    assert runner.invoke(app, ["ingest", str(folder), "--meta", "novalue"]).exit_code == 2


def test_http_ingest_together(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    one, two = tmp_path / "photo.jpg", tmp_path / "note.ogg"
    one.write_bytes(b"\xff\xd8jpeg")
    two.write_bytes(b"OggS audio")
    with running(make_settings(tmp_path / "srv")) as live:
        result = runner.invoke(
            app,
            [
                "ingest",
                str(one),
                str(two),
                "--together",
                "--url",
                live.url,
                "--key",
                live.admin_key,
                "--meta",
                "k=v",
            ],
        )
        assert result.exit_code == 0, result.output
        status, h, _ = result.stdout.strip().split("\t")
        assert status == "new"
        deck = live.services.instances.get("deck")
        entry = live.services.entries.get(deck, h)
        assert entry["contenedor"]["metadata"] == {"k": "v"}
        assert [f["sha256"] for f in entry["contenedor"]["files"]] == [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in (one, two)
        ]
        wrong = runner.invoke(app, ["ingest", str(one), "--url", live.url, "--key", "tzzr_x_y"])
        assert wrong.exit_code == 1
        assert "401" in wrong.stderr


def test_seal_receipt_verify_audit_rotate(home: Path, tmp_path: Path) -> None:
    services = Services.build(Settings())
    services.bootstrap()
    note = tmp_path / "note.txt"
    note.write_text("buy milk")
    made = runner.invoke(app, ["ingest", str(note)])
    h = made.stdout.split("\t")[1]
    sealed = runner.invoke(app, ["seal"])
    assert sealed.exit_code == 0
    assert sealed.stdout.startswith("deck\tblock 1\t1 leaves")
    assert "nothing to seal" in runner.invoke(app, ["seal", "--instance", "deck"]).stderr
    receipt = tmp_path / "r.json"
    assert runner.invoke(app, ["receipt", h, "--out", str(receipt)]).exit_code == 0
    key = services.ledger.keys.public_keys(services.instances.get("deck"))[0].verifier_key
    key_file = tmp_path / "log.key"
    key_file.write_text(key + "\n")
    ok = runner.invoke(app, ["verify", str(receipt), "--file", str(note), "--key", str(key_file)])
    assert ok.exit_code == 0, ok.output
    assert "VALID" in ok.stdout and "'note.txt'" in ok.stdout
    other = tmp_path / "other.txt"
    other.write_text("not it")
    wrong = runner.invoke(app, ["verify", str(receipt), "--file", str(other)])
    assert wrong.exit_code == 1
    assert "INVALID" in wrong.stderr
    assert runner.invoke(app, ["audit"]).exit_code == 0
    new_id = runner.invoke(app, ["ledger", "rotate-key", "--instance", "deck"]).stdout.strip()
    assert len(new_id) == 8
    assert runner.invoke(app, ["verify", str(receipt), "--key", key]).exit_code == 0
    with services.engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE ledger_blocks SET prev_hash = 'x'"))
    broken = runner.invoke(app, ["audit"])
    assert broken.exit_code == 1
    assert "block 1: previous hash is x" in broken.stdout
    services.close()
