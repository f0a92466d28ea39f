"""`tzzr vision …` against TZZR_HOME: a vision built, shown as a tree with progress, a
habit checked in, Loop's export imported and the calendar written."""

import io
import zipfile
from pathlib import Path

import pytest
import vobject
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


def test_a_vision_from_the_shell(home: Path, tmp_path: Path) -> None:
    run("instances", "add", "deck")
    vision = run("vision", "add", "Run [a] marathon").strip()
    milestone = run("vision", "milestone", "add", vision, "10 km", "--weight", "2").strip()
    first = run("vision", "action", "add", milestone, "Buy shoes", "--due", "2026-12-20").strip()
    run("vision", "action", "add", milestone, "Train")
    assert "done; leaf" in run("vision", "action", "done", first)
    habit = run("vision", "habit", "add", "Stretch", "--tz", "Europe/Madrid").strip()
    assert "checked in on" in run("vision", "habit", "checkin", habit)
    assert "Stretch" in run("vision", "habit", "list", "--days", "7")
    shown = run("vision", "show", vision)
    assert "Run [a] marathon" in shown and "50%" in shown and "✓ Buy shoes" in shown
    assert "50%" in run("vision", "list")
    out = tmp_path / "plan.ics"
    run("vision", "ics", vision, "-o", str(out))
    (event,) = vobject.readOne(out.read_text()).contents["vevent"]
    assert event.summary.value == "Done: Buy shoes"
    missing = CliRunner().invoke(app, ["vision", "show", "999"])
    assert missing.exit_code == 1 and "no vision 999" in missing.stderr


def test_import_loop(home: Path, tmp_path: Path) -> None:
    run("instances", "add", "deck")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "Habits.csv",
            "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
            "Color,Unit,Target Type,Target Value,Archived?\n"
            "001,Read,YES_NO,Did you read?,,1,1,#FF8F00,,,,false\n"
            "002,Walk,NUMERICAL,,,1,7,#FF8F00,km,AT_LEAST,20.0,false\n",
        )
        archive.writestr(
            "001 Read/Checkmarks.csv",
            "Date,Value,Notes\n2026-11-03,YES_MANUAL,good book\n2026-11-02,YES_AUTO,\n"
            "2026-11-01,2,\n2026-10-31,NO,\n",
        )
        archive.writestr("002 Walk/Checkmarks.csv", "Date,Value,Notes\n2026-11-01,5500,\n")
    path = tmp_path / "Loop Habits CSV 2026-11-04.zip"
    path.write_bytes(buffer.getvalue())
    found = run("vision", "import-loop", str(path), "--tz", "Europe/Madrid")
    words = found.split()
    assert words == ["1", "Read", "new", "2", "check-ins", "2", "Walk", "new", "1", "check-ins"]
    again = run("vision", "import-loop", str(path)).split()  # the same again: nothing new
    assert again.count("existing") == 2 and again.count("0") == 2
