"""Preview runs queued at ingest (tzzr.runs.previews): which files get one, the run id a
file's preview has, a real `tzzr worker` making them on both queue shapes, a message lost
(or a queue down at ingest) queued again by the reaper, and a run id someone else took
never mistaken for a preview."""

import hashlib
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.api.conftest import Api, in_process
from tests.runs.conftest import SHAPES, shape_server, worker_process
from tzzr.queue import run_message
from tzzr.runs.previews import preview_kind, run_id


def photo(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (seed % 256, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def ingest(client: TestClient | httpx.Client, data: bytes, note: str) -> dict[str, Any]:
    answer = client.post(
        "/ingest",
        data={"metadata": json.dumps({"note": note})},
        files={"file": ("p.jpg", data, "image/jpeg")},
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        ("image/jpeg", "image"),
        ("IMAGE/PNG; charset=x", "image"),
        ("image/svg+xml", None),  # a program, not a picture
        ("application/pdf", "pdf"),
        ("audio/webm", "audio"),
        ("audio/ogg", "audio"),
        ("video/mp4", None),
        ("text/plain", None),
        ("application/octet-stream", None),
    ],
)
def test_which_files_are_previewed(media_type: str, kind: str | None) -> None:
    assert preview_kind(media_type) == kind


def test_a_files_preview_run_id_is_a_run_id() -> None:
    found = run_id("ab" * 32)
    assert found == "preview-" + "ab" * 28 and len(found) == 64


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with in_process(tmp_path / "home") as made:
        yield made


def test_a_lost_message_is_queued_again_by_the_reaper(api: Api) -> None:
    services, client = api
    data = photo(1)
    ingest(client, data, "lost")
    while services.queue.take("cpu") is not None:  # the message is lost
        pass
    executor = services.executor("test")
    assert executor.reap() == []  # its lease has not run out yet
    later = datetime.now(UTC) + timedelta(seconds=11 * services.settings.run_lease_seconds)
    queued = run_id(hashlib.sha256(data).hexdigest())
    assert executor.reap(later) == [queued]
    message = services.queue.take("cpu")
    assert message is not None and services.queue.payload(message).endswith("/" + queued)
    deck = services.instances.get("deck").h_instancia
    assert executor.execute(run_message(deck, queued)) == "done"
    assert executor.reap(later + timedelta(hours=1)) == []  # done: nothing to reap


def test_a_queue_down_at_ingest_loses_no_preview(tmp_path: Path) -> None:
    with in_process(tmp_path / "home", queue_url="redis://127.0.0.1:9/0") as (_, client):
        data = photo(2)
        entry = ingest(client, data, "queue down")  # stored, though nothing could be queued
        files = client.get(f"/entries/{entry['h_entrada']}/previews").json()["files"]
        assert files[0]["status"] == "pending"
        run = client.get(f"/api/runs/{run_id(hashlib.sha256(data).hexdigest())}").json()
        assert run["status"] == "queued" and run["cellId"] == "preview"


def test_a_run_id_taken_by_another_run_is_not_a_preview(api: Api) -> None:
    _, client = api
    data = photo(3)
    squatted = run_id(hashlib.sha256(data).hexdigest())
    taken = client.post(
        "/api/cells/test-echo/run",
        json={"runId": squatted, "input": {"type": "bytes", "encoding": "base64", "content": ""}},
    )
    assert taken.status_code == 202, taken.text
    entry = ingest(client, data, "squatted")  # the ingest goes on
    files = client.get(f"/entries/{entry['h_entrada']}/previews").json()["files"]
    assert files[0]["status"] == "none" and files[0]["runId"] is None
    sha = hashlib.sha256(data).hexdigest()
    assert client.get(f"/previews/{sha}/thumb.webp").status_code == 404


@pytest.mark.parametrize("shape", SHAPES)
def test_a_worker_makes_the_previews_of_what_is_ingested(shape: str, tmp_path: Path) -> None:
    with shape_server(shape, tmp_path / "home") as server, server.client() as client:
        data = photo(4)
        entry = ingest(client, data, f"worker {shape}")
        with worker_process(server.env, tmp_path / "worker.log"):
            deadline = time.monotonic() + 60
            while True:
                files = client.get(f"/entries/{entry['h_entrada']}/previews").json()["files"]
                if files[0]["status"] != "pending" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        assert files[0]["status"] == "done", (files, (tmp_path / "worker.log").read_text())
        thumb = client.get(files[0]["thumb"])
        assert thumb.status_code == 200
        assert Image.open(io.BytesIO(thumb.content)).size == (256, 192)
        run = client.get(f"/api/runs/{files[0]['runId']}").json()
        assert run["leafIndex"] is not None  # attested like any run
