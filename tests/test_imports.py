"""The server loads a heavy library when a request or a job needs it, not at startup
(issue 16: an idle `tzzr serve` stays small): THE FACTORY's model client and tuner, the
image and speech engines the cells run, schema checks and calendars load on first use."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

LAZY = [
    "openai",  # THE FACTORY's model client (tzzr.factory.llm), with aiohttp
    "aiohttp",
    "optuna",  # THE FACTORY's tuner (tzzr.factory.tune, tzzr.factory.space)
    "numpy",  # the OCR cell's page preparation (tzzr.cells.prep), the render cells
    "cv2",
    "PIL",
    "faster_whisper",
    "stdnum",  # the receipt cell's tax ids (tzzr.cells.taxid)
    "jsonschema",  # schema checks (tzzr.mason, tzzr.instances, tzzr.factory.llm)
    "icalendar",  # the actions' calendar (tzzr.vision.calendar)
]

# Runs in a fresh interpreter, then says which of LAZY it loaded.
IMPORT = """
import json, sys
import tzzr.app
print(json.dumps([name for name in json.loads(sys.argv[1]) if name in sys.modules]))
"""

# What `tzzr serve` does before it listens (cells discovered, the deck bootstrapped,
# the app built), then the app's startup and one request.
SERVE = """
import json, sys
from fastapi.testclient import TestClient
from tzzr.app import create_app
from tzzr.config import Settings
from tzzr.services import Services
services = Services.build(Settings(), long_running=True)
services.bootstrap(default_flows=True)
try:
    with TestClient(create_app(services)) as client:
        assert client.get("/health").status_code == 200
finally:
    services.close()
print(json.dumps([name for name in json.loads(sys.argv[1]) if name in sys.modules]))
"""


def loaded(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(LAZY)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[str] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_import_app_loads_no_heavy_library() -> None:
    assert loaded(IMPORT) == []


def test_a_started_server_has_loaded_no_heavy_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZZR_HOME", str(tmp_path / "home"))  # the subprocess's environment
    assert loaded(SERVE) == []


def test_the_probe_sees_a_library_that_is_loaded() -> None:
    # The same probe after a cell module's engine is imported: it would tell.
    assert loaded(IMPORT.replace("import tzzr.app", "import tzzr.app, tzzr.cells.prep")) == [
        "numpy"
    ]
