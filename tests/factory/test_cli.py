"""`tzzr vision refine`: THE FACTORY from the shell against TZZR_HOME (the deterministic
planner: no model configured), with items accepted and rejected into the vision."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tzzr.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZZR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result.stdout


def test_a_vision_refined_from_the_shell(home: Path) -> None:
    run("instances", "add", "deck")
    vision = run("vision", "add", "Learn Go").strip()
    shown = run(
        "vision", "refine", vision, "--start", "2027-01-01", "--deadline", "2027-06-30",
        "--accept", "m1", "--accept", "a2", "--reject", "a3",
    )  # fmt: skip
    assert "by the deterministic planner" in shown
    assert "round 1 (deterministic planner): 0 note(s), +13 -0 ~0" in shown
    assert "m1 milestone Define what “Learn Go” means" in shown
    assert "m1 accepted as milestone 1" in shown and "a3 rejected" in shown
    tree = run("vision", "show", vision)
    assert "Write the outcome down in one sentence" in tree
    assert "Choose one measure of progress" not in tree
    early = CliRunner().invoke(app, ["vision", "refine", vision, "--accept", "a2"])
    assert early.exit_code == 1 and "accept that milestone first" in early.stderr
    bad = CliRunner().invoke(
        app, ["vision", "refine", vision, "--start", "2027-02-01", "--deadline", "2027-01-01"]
    )
    assert bad.exit_code == 1 and "deadline must come after start" in bad.stderr
