"""The CLI's tests run against a data directory of their own (TZZR_HOME)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TZZR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
