"""What every command shares: one-line errors with a non-zero exit, the default instance."""

from pathlib import Path

from typer.testing import CliRunner

from tzzr.cli import app
from tzzr.cli.console import DEFAULT_INSTANCE


def test_errors_are_one_line_and_nonzero(runner: CliRunner, home: Path) -> None:
    missing = runner.invoke(app, ["keys", "create", "--instance", "nope"])
    assert missing.exit_code == 1
    assert "no instance named 'nope'" in missing.stderr
    bad = runner.invoke(app, ["instances", "add", "Bad Name"])
    assert bad.exit_code == 1


def test_the_default_instance_is_the_services_one() -> None:
    from tzzr.services import DEFAULT_INSTANCE as SERVICES_DEFAULT

    assert DEFAULT_INSTANCE == SERVICES_DEFAULT
