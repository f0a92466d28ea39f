"""`tzzr ingest`: locally into TZZR_HOME, and through a server."""

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import make_settings, running
from tzzr.cli import app
from tzzr.config import Settings
from tzzr.services import Services


def test_local_ingest_new_then_duplicate(runner: CliRunner, home: Path, tmp_path: Path) -> None:
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


def test_http_ingest_together(runner: CliRunner, tmp_path: Path) -> None:
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
