"""Previews over HTTP, made at ingest and executed by the worker's executor: an entry's
files with their preview status, thumbnails and waveforms served with caching headers
(ETag, 304), another instance's 404, the read role, and bad names refused. On SQLite
and PostgreSQL."""

import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from tests.api.conftest import Api, in_process, key_of
from tzzr.db.models import Run
from tzzr.queue import run_message
from tzzr.runs.previews import run_id


@pytest.fixture(scope="module", params=["sqlite-local", "postgresql-local"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp(f"previews-{request.param}") / "home"
    with in_process(home, backend=request.param) as made:
        made[0].add_instance("corp")
        yield made


def jpeg(width: int, height: int, orientation: int = 1, seed: int = 0) -> bytes:
    image = Image.new("RGB", (width, height), (30 + seed, 90, 200))
    image.paste((230, 40, 40), (0, 0, width // 3, height // 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(out, "PDF", resolution=150)
    return out.getvalue()


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("sox") is None or shutil.which("ffmpeg") is None:
        pytest.skip("sox and ffmpeg are needed for audio")
    out = tmp_path_factory.mktemp("tone") / "tone.ogg"
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "1", str(out), "synth", "2.5", "sine", "330"],
        check=True,
    )
    return out.read_bytes()


def ingest(
    client: TestClient, files: list[tuple[str, bytes, str]], note: str, **headers: str
) -> dict[str, Any]:
    answer = client.post(
        "/ingest",
        data={"metadata": json.dumps({"note": note})},
        files=[("file", file) for file in files],
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def work(api: Api, *data: bytes) -> None:
    """The worker's part: execute the preview run of each file."""
    services, _ = api
    deck = services.instances.get("deck").h_instancia
    executor = services.executor("test")
    for blob in data:
        executor.execute(run_message(deck, run_id(hashlib.sha256(blob).hexdigest())))


def previews(client: TestClient, h_entrada: str) -> list[dict[str, Any]]:
    answer = client.get(f"/entries/{h_entrada}/previews")
    assert answer.status_code == 200, answer.text
    assert answer.json()["h_entrada"] == h_entrada
    files: list[dict[str, Any]] = answer.json()["files"]
    return files


def preview_runs(api: Api) -> int:
    with api[0].engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(Run.cell_id == "preview")).scalar_one())


def test_every_previewable_file_gets_previews_without_a_flow(api: Api, tone: bytes) -> None:
    _, client = api
    photo, small, document = jpeg(2000, 1500, orientation=6), png(120, 80), pdf()
    entry = ingest(
        client,
        [
            ("photo.jpg", photo, "image/jpeg"),
            ("small.png", small, "image/png"),
            ("notes.txt", b"just text", "text/plain"),
            ("scan.pdf", document, "application/pdf"),
            ("voice.ogg", tone, "audio/ogg"),
        ],
        "every kind",
    )
    before = previews(client, entry["h_entrada"])
    assert [f["status"] for f in before] == ["pending", "pending", "none", "pending", "pending"]
    assert [f["kind"] for f in before] == ["image", "image", None, "pdf", "audio"]
    assert before[0]["thumb"] is None and before[0]["runId"] == run_id(before[0]["sha256"])
    assert api[0].queue.depth()["cpu"] >= 4  # queued with the entry, not by a flow
    work(api, photo, small, document, tone)
    after = {f["name"]: f for f in previews(client, entry["h_entrada"])}
    shot = after["photo.jpg"]
    assert shot["status"] == "done" and (shot["width"], shot["height"]) == (1500, 2000)
    assert shot["thumb"] == f"/previews/{shot['sha256']}/thumb.webp"
    assert shot["large"] == f"/previews/{shot['sha256']}/large.webp" and shot["waveform"] is None
    assert (after["small.png"]["width"], after["small.png"]["height"]) == (120, 80)
    scan = after["scan.pdf"]
    assert scan["status"] == "done" and (scan["width"], scan["height"], scan["pages"]) == (
        595,
        842,
        1,
    )
    voice = after["voice.ogg"]
    assert voice["status"] == "done" and abs(voice["duration"] - 2.5) < 0.1
    assert voice["waveform"] == f"/previews/{voice['sha256']}/waveform.webp"
    assert voice["thumb"] is None and voice["truncated"] is False
    assert after["notes.txt"]["status"] == "none" and after["notes.txt"]["thumb"] is None
    sizes = {
        (name, kind): Image.open(io.BytesIO(client.get(after[name][kind]).content)).size
        for name, kind in [
            ("photo.jpg", "thumb"),
            ("photo.jpg", "large"),
            ("small.png", "large"),
            ("scan.pdf", "thumb"),
            ("voice.ogg", "waveform"),
        ]
    }
    assert sizes == {
        ("photo.jpg", "thumb"): (192, 256),  # turned upright, the longer side 256
        ("photo.jpg", "large"): (960, 1280),
        ("small.png", "large"): (120, 80),  # never enlarged
        ("scan.pdf", "thumb"): (181, 256),
        ("voice.ogg", "waveform"): (1024, 160),
    }


def test_a_preview_is_cached_by_its_content_address(api: Api) -> None:
    _, client = api
    photo = jpeg(800, 600, seed=1)
    entry = ingest(client, [("p.jpg", photo, "image/jpeg")], "cache")
    work(api, photo)
    thumb = previews(client, entry["h_entrada"])[0]["thumb"]
    first = client.get(thumb)
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    assert first.headers["etag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert first.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(first.content)).format == "WEBP"
    etag = first.headers["etag"]
    for asked in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(thumb, headers={"If-None-Match": asked})
        assert again.status_code == 304 and again.content == b"", asked
        assert again.headers["etag"] == etag
    changed = client.get(thumb, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_the_same_file_again_is_previewed_once(api: Api) -> None:
    _, client = api
    photo = jpeg(640, 480, seed=2)
    ingest(client, [("a.jpg", photo, "image/jpeg")], "first")
    runs = preview_runs(api)
    work(api, photo)
    second = ingest(client, [("b.jpg", photo, "image/jpeg"), ("c.jpg", photo, "image/jpeg")], "2")
    assert preview_runs(api) == runs  # no new run: the file's preview exists
    files = previews(client, second["h_entrada"])
    assert [f["status"] for f in files] == ["done", "done"] and files[0]["thumb"] is not None


def test_a_refused_capture_leaves_no_preview_run(api: Api) -> None:
    _, client = api
    photo = jpeg(300, 300, seed=3)
    ingest(client, [("a.jpg", photo, "image/jpeg")], "once")
    runs = preview_runs(api)
    duplicate = client.post(
        "/ingest",
        data={"metadata": json.dumps({"note": "once"})},
        files=[("file", ("a.jpg", photo, "image/jpeg"))],
    )
    assert duplicate.status_code == 409
    other = jpeg(301, 300, seed=3)
    bad = client.post(
        "/ingest",
        data={"metadata": "[1]"},
        files=[("file", ("b.jpg", other, "image/jpeg"))],
    )
    assert bad.status_code == 422
    assert preview_runs(api) == runs
    with api[0].engine.connect() as conn:
        assert (
            conn.execute(
                select(Run.id).where(Run.id == run_id(hashlib.sha256(other).hexdigest()))
            ).first()
            is None
        )


def test_a_file_that_is_not_what_it_says_fails_clearly(api: Api) -> None:
    _, client = api
    fake = b"not a PNG, whatever its name says"
    entry = ingest(client, [("fake.png", fake, "image/png")], "fake")
    work(api, fake)
    found = previews(client, entry["h_entrada"])[0]
    assert found["status"] == "failed" and found["thumb"] is None
    assert "not an image in a format" in found["error"]["message"]
    missing = client.get(f"/previews/{found['sha256']}/thumb.webp")
    assert missing.status_code == 404


def test_a_pending_preview_says_so(api: Api) -> None:
    _, client = api
    photo = jpeg(200, 100, seed=4)
    ingest(client, [("p.jpg", photo, "image/jpeg")], "pending")
    answer = client.get(f"/previews/{hashlib.sha256(photo).hexdigest()}/thumb.webp")
    assert answer.status_code == 404 and "being made" in answer.json()["error"]["message"]
    assert "cache-control" not in answer.headers  # ask again later: nothing is kept


def test_another_instance_and_an_ingest_key_cannot_read_them(api: Api) -> None:
    services, client = api
    photo = jpeg(500, 400, seed=5)
    entry = ingest(client, [("p.jpg", photo, "image/jpeg")], "isolated")
    work(api, photo)
    thumb = previews(client, entry["h_entrada"])[0]["thumb"]
    corp_key, _ = services.keys.create("corp", "admin")
    corp = {"Authorization": f"Bearer {corp_key}"}
    for path in (f"/entries/{entry['h_entrada']}/previews", thumb):
        assert client.get(path, headers=corp).status_code == 404, path
        refused = client.get(path, headers=key_of(api, "ingest"))
        assert refused.status_code == 403 and "read" in refused.json()["error"]["message"]
        assert client.get(path, headers=key_of(api, "read")).status_code == 200
    # corp's own copy of the same photo is corp's: previewed in corp, not served from deck's
    corp_entry = ingest(client, [("p.jpg", photo, "image/jpeg")], "corp's", **corp)
    assert [f["status"] for f in previews_as(client, corp_entry["h_entrada"], corp)] == ["pending"]


def previews_as(client: TestClient, h_entrada: str, headers: dict[str, str]) -> list[Any]:
    answer = client.get(f"/entries/{h_entrada}/previews", headers=headers)
    assert answer.status_code == 200, answer.text
    files: list[Any] = answer.json()["files"]
    return files


def test_bad_names_are_refused_with_a_message(api: Api) -> None:
    _, client = api
    sha = "a" * 64
    unknown = client.get(f"/previews/{sha}/secret.png")
    assert unknown.status_code == 404
    assert "thumb.webp, large.webp, waveform.webp" in unknown.json()["error"]["message"]
    bad_sha = client.get("/previews/not-a-digest/thumb.webp")
    assert bad_sha.status_code == 422 and bad_sha.json()["error"]["field"] == "sha256"
    bad_entry = client.get("/entries/nope/previews")
    assert bad_entry.status_code == 422 and bad_entry.json()["error"]["field"] == "h_entrada"
    absent = client.get(f"/entries/{sha}/previews")
    assert absent.status_code == 404 and "no entry" in absent.json()["error"]["message"]
    assert client.get(f"/previews/{sha}/thumb.webp").status_code == 404


def test_previews_are_written_with_the_entry_in_its_transaction(api: Api) -> None:
    """The run is in the database the moment the capture is acknowledged."""
    services, client = api
    photo = jpeg(100, 100, seed=6)
    entry = ingest(client, [("p.jpg", photo, "image/jpeg")], "atomic")
    sha = entry["files"][0]["sha256"]
    with services.engine.connect() as conn:
        row = conn.execute(select(Run).where(Run.id == run_id(sha))).one()
    assert row.status == "queued" and row.input_sha == sha and row.input_type == "image"
    assert row.lease_until is not None  # a lost message is queued again by the reaper
