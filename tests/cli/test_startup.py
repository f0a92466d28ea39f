"""The CLI imports what a command needs, when it runs: `import tzzr.cli`, `tzzr --help`
and `tzzr verify` load no database, web or settings code (bench/startup.py times them)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tzzr.cli import app
from tzzr.config import Settings
from tzzr.services import Services

HEAVY = [
    "sqlalchemy",
    "fastapi",
    "pydantic",
    "pydantic_settings",
    "huey",
    "tzzr.config",
    "tzzr.services",
]

# Runs the command in a fresh interpreter, then says which of HEAVY it loaded.
PROBE = """
import json, sys
argv, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["tzzr", *argv]
import tzzr.cli
if argv:
    try:
        tzzr.cli.main()
    except SystemExit as exit:
        assert exit.code in (0, None), exit.code
print(json.dumps([name for name in heavy if name in sys.modules]))
"""


def loaded(*argv: str, probe: list[str] = HEAVY) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("argv", [[], ["--help"], ["ingest", "--help"]], ids=" ".join)
def test_import_and_help_load_nothing_heavy(argv: list[str]) -> None:
    assert loaded(*argv) == []
    assert loaded(*argv, probe=["rich"]) == []  # Rich too: nothing is printed through it


def test_verify_loads_no_database_code(
    runner: CliRunner, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = Services.build(Settings())
    services.bootstrap()
    note = tmp_path / "note.txt"
    note.write_text("buy milk")
    h_entrada = runner.invoke(app, ["ingest", str(note)]).stdout.split("\t")[1]
    assert runner.invoke(app, ["seal"]).exit_code == 0
    receipt = tmp_path / "r.json"
    assert runner.invoke(app, ["receipt", h_entrada, "--out", str(receipt)]).exit_code == 0
    services.close()
    monkeypatch.delenv("TZZR_HOME")  # verify needs no data directory either
    assert loaded("verify", str(receipt), "--file", str(note)) == []
    assert loaded("verify", str(receipt), probe=["rich"]) == []  # a valid answer: plain print
