import base64
from pathlib import Path

from tzzr.blobs.local import LocalBlobStore
from tzzr.canonical import canonical_json, sha256_hex
from tzzr.cells.answers import ResultKeeper, answer_metrics, inline
from tzzr.cells.base import Artifact, CellResult

ANSWER = CellResult(
    {"text": "hi"},
    "engine-x",
    metrics={"latencyMs": 99.0, "pages": 1.0},
    artifacts={"a.png": Artifact(b"PNG", "image/png")},
)


def test_an_answer_is_kept_as_content_addressed_blobs(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    kept = ResultKeeper().keep(store, ANSWER)
    assert kept.result["artifacts"]["a.png"]["url"] == f"/blobs/{sha256_hex(b'PNG')}"
    assert kept.sha256 == sha256_hex(canonical_json(kept.result))
    assert store.read_all(kept.sha256) == canonical_json(kept.result)
    assert kept.artifacts == [
        {"name": "a.png", "sha256": sha256_hex(b"PNG"), "media_type": "image/png", "size": 3}
    ]


def test_inline_answers_carry_their_artifacts() -> None:
    kept = inline(ANSWER)
    assert base64.b64decode(kept.result["artifacts"]["a.png"]["base64"]) == b"PNG"
    assert kept.sha256 is None


def test_the_measured_latency_wins_over_the_cells_own() -> None:
    metrics = answer_metrics(ANSWER, 1.5)
    assert metrics == {
        "latencyMs": 1.5,
        "engine": "engine-x",
        "model": None,
        "device": "cpu",
        "pages": 1.0,
    }
