"""Help shows Click-style metavars (PATH..., TEXT, INTEGER), never Python types."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.testing import CliRunner

from tzzr.cli import app
from tzzr.cli.params import App

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
    (usage,) = [line for line in shown.output.splitlines() if line.startswith("Usage:")]
    assert "{" not in usage  # no `{name}` for a required argument


def test_ingest_help(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["ingest", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    text = shown.output
    assert "Usage: root ingest [OPTIONS] PATHS..." in text
    assert re.search(r"paths\.\.\.\s+PATH\.\.\.\s+Files or directories", text)
    assert re.search(r"--meta\s+TEXT\s+key=value", text)
    assert re.search(r"--instance\s+NAME\s", text)
    assert re.search(r"--together / --no-together\s+One container", text)  # a flag: no type
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


def _twin(app: typer.Typer, seen: list[object]) -> typer.Typer:
    @app.command()
    def read(
        name: str,
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
        out: Annotated[Path | None, typer.Option(file_okay=False)] = None,
        label: Annotated[str, typer.Option(envvar="TWIN_LABEL")] = "x",
        count: Annotated[int, typer.Option(min=1)] = 1,
        loud: bool = False,
    ) -> None:
        seen.append((name, path, out, label, count, loud))

    return app


@pytest.mark.parametrize(
    "argv",
    [
        ["a", "{file}"],
        ["a", "{file}", "--out", "{dir}", "--label", "é b", "--count", "3", "--loud"],
        ["a", "{file}", "--no-loud", "--out", "nowhere"],
        ["a", "{dir}"],  # a directory where a file is due
        ["a", "{dir}/missing"],
        ["a", "{file}", "--out", "{file}"],  # a file where a directory is due
        ["a", "{file}", "--count", "0"],
        ["a"],
    ],
)
def test_values_are_read_as_typer_reads_them(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """Our str/Path/flag reading (PlainValue) against Typer's own, value for value and
    error for error."""
    (tmp_path / "f.txt").write_text("x")
    args = [a.format(file=tmp_path / "f.txt", dir=tmp_path) for a in argv]
    monkeypatch.setenv("TWIN_LABEL", "from env")
    ours: list[object] = []
    theirs: list[object] = []
    mine = runner.invoke(_twin(App(), ours), args, env={"COLUMNS": "200"})
    typers = runner.invoke(
        _twin(typer.Typer(rich_markup_mode=None), theirs), args, env={"COLUMNS": "200"}
    )
    assert (mine.exit_code, ours) == (typers.exit_code, theirs)
    last = [(result.output.splitlines() or [""])[-1] for result in (mine, typers)]
    assert last[0] == last[1]  # the error line, if any
