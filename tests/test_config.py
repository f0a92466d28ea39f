from pathlib import Path

import pytest

from tzzr.config import Settings


def test_defaults_live_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'tzzr.db'}"
    assert settings.blob_url == (tmp_path / "blobs").as_uri()
    assert settings.public_url == "http://127.0.0.1:8000"


def test_environment_beats_toml_which_beats_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tzzr.toml").write_text('port = 9001\nmax_files = 7\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("TZZR_HOME", str(tmp_path))
    monkeypatch.setenv("TZZR_PORT", "9002")
    settings = Settings()
    assert settings.port == 9002
    assert settings.max_files == 7
    assert settings.host == "0.0.0.0"


def test_unknown_toml_keys_are_an_error(tmp_path: Path) -> None:
    (tmp_path / "tzzr.toml").write_text("max_fils = 7\n")
    with pytest.raises(ValueError, match="max_fils"):
        Settings(home=tmp_path)
