"""Help shows Click-style metavars (PATH..., TEXT, INTEGER), never Python types."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tzzr.cli import app

# Typer 0.29's own labels: <str>, <bool>, <list[Path]>, <int range>, ...
PYTHON_TYPE = re.compile(r"<[a-z][\w\[\], |]*>")


def _paths(group: Any, path: list[str]) -> Iterator[list[str]]:
    yield path
    for name, command in getattr(group, "commands", {}).items():
        if not command.hidden:
            yield from _paths(command, [*path, name])


COMMANDS = list(_paths(typer.main.get_command(app), []))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(["tzzr", *p]))
def test_no_python_type_in_any_help(runner: CliRunner, path: list[str]) -> None:
    shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    assert PYTHON_TYPE.findall(shown.output) == []
    assert "{" not in shown.output.splitlines()[1]  # no `{name}` on the usage line


def test_ingest_help(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    text = shown.output
    assert "Usage: root ingest [OPTIONS] PATHS..." in text
    assert re.search(r"paths\.\.\.\s+PATH\.\.\.\s+Files or directories", text)
    assert re.search(r"--meta\s+TEXT\s+key=value", text)
    assert re.search(r"--instance\s+NAME\s", text)
    assert re.search(r"--together\s+--no-together\s+One container", text)  # a flag: no type
    assert re.search(r"--help\s+Show this message", text)


def test_types_and_metavars(runner: CliRunner) -> None:
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    worker = runner.invoke(app, ["worker", "--help"], env=env).output
    assert re.search(r"--concurrency\s+INTEGER RANGE", worker)
    verify = runner.invoke(app, ["verify", "--help"], env=env).output
    assert "[OPTIONS] FILE" in verify
    assert re.search(r"--file\s+FILE\s+Also check", verify)  # a file, not a directory
    schema = runner.invoke(app, ["instances", "enrichment-schema", "--help"], env=env).output
    assert "[OPTIONS] NAME [SCHEMA]" in schema  # an optional argument in brackets
    assert re.search(r"name\s+TEXT", schema)
