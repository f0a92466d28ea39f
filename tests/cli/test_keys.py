"""`tzzr instances …` and `tzzr keys …`: the CLI builds the same services as the server."""

import json
from pathlib import Path

from typer.testing import CliRunner

from tzzr.cli import app
from tzzr.config import Settings
from tzzr.services import Services


def test_instances_and_keys(runner: CliRunner, home: Path, tmp_path: Path) -> None:
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
