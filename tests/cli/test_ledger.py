"""`tzzr seal`, `receipt`, `verify`, `audit`, `ledger rotate-key`."""

from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from tzzr.cli import app
from tzzr.config import Settings
from tzzr.services import Services


def test_seal_receipt_verify_audit_rotate(runner: CliRunner, home: Path, tmp_path: Path) -> None:
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
        conn.execute(text("UPDATE ledger_blocks SET prev_hash = 'x'"))
    broken = runner.invoke(app, ["audit"])
    assert broken.exit_code == 1
    assert "block 1: previous hash is x" in broken.stdout
    services.close()
