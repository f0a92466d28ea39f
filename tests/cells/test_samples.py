"""A cell's own examples: sample payloads (bundled files, base64, none), test cases with
their expectations, and visualization samples rendered once per instance and version.
Over HTTP (/api/cells/{id}/visualization, specialize) in tests/cells/test_specialize.py."""

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tzzr import samples
from tzzr.cells.base import CellContext, CellFailed, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.samples import RENDERED_SAMPLES, Visualizer, run_case, sample_payload
from tzzr.errors import InvalidInput, NotFound


def _meta(version: str = "1.0.0", listed: list[dict[str, Any]] | None = None) -> KnowledgeCell:
    return KnowledgeCell(
        id="words",
        type="demo",
        version=version,
        api_endpoint="/api/cells/words/run",
        microservice_url="",
        visualization_sample={"samples": listed or []},
    )


@dataclass
class WordsCell:
    """Answers the payload's text; counts its runs; refuses a payload saying "refuse"."""

    meta: KnowledgeCell = field(default_factory=_meta)
    module: str = "WORDS"
    accepts: frozenset[str] = frozenset({"text", "none"})
    runs: list[tuple[CellContext, Payload]] = field(default_factory=list)

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        self.runs.append((context, payload))
        if payload.data == b"refuse":
            raise CellFailed("this input is refused", field="payload")
        return CellResult({"text": payload.data.decode(), "lang": context.lang}, engine="words")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_sample_payloads_come_from_a_bundled_file_base64_or_nothing() -> None:
    bundled = sample_payload({"type": "image", "sample": "receipt.png", "media_type": "image/png"})
    assert bundled == Payload("image", samples.read("receipt.png"), "image/png")
    assert sample_payload({"type": "text", "base64": b64(b"hi")}) == Payload("text", b"hi")
    assert sample_payload({"base64": b64(b"x")}).type == "bytes"
    assert sample_payload({}) == Payload("none", b"")


def test_a_bad_sample_names_what_is_known_or_the_field() -> None:
    with pytest.raises(NotFound, match=r"samples: .*receipt\.png"):
        sample_payload({"type": "image", "sample": "nope.png"})
    with pytest.raises(InvalidInput, match="base64 is invalid") as caught:
        sample_payload({"type": "text", "base64": "!!"})
    assert caught.value.field == "input"


def test_a_case_reports_each_missing_word_case_blind() -> None:
    cell = WordsCell()
    case = {
        "name": "greeting",
        "lang": "es",
        "params": {"p": 1},
        "input": {"type": "text", "base64": b64(b"Hola Mundo")},
        "expect": {"contains": ["hola", "MUNDO", "adios"]},
    }
    report = run_case(cell, case)
    assert report["name"] == "greeting" and report["ok"] is False
    assert report["missing"] == ["adios"]
    assert report["device"] == "cpu" and report["latencyMs"] >= 0
    context, payload = cell.runs[0]
    assert (context.lang, dict(context.params), payload.data) == ("es", {"p": 1}, b"Hola Mundo")
    passed = run_case(cell, {**case, "expect": {"contains": ["hola"]}})
    assert passed["ok"] is True and passed["missing"] == []
    assert run_case(cell, {"input": {"type": "text", "base64": b64(b"x")}})["name"] == "case"


def test_a_result_without_text_is_searched_as_json() -> None:
    class Numbers(WordsCell):
        def run(self, context: CellContext, payload: Payload) -> CellResult:
            return CellResult({"total": 1250, "currency": "EUR"}, engine="n")

    report = run_case(Numbers(), {"expect": {"contains": ["eur", "1250"]}})
    assert report["ok"] is True


def test_a_case_whose_cell_fails_reports_the_error() -> None:
    report = run_case(WordsCell(), {"input": {"type": "text", "base64": b64(b"refuse")}})
    assert report["ok"] is False and report["error"] == "this input is refused"
    assert report["latencyMs"] is None


def visualized(version: str = "1.0.0") -> WordsCell:
    listed = [
        {"id": "hello", "lang": "en", "input": {"type": "text", "base64": b64(b"hello")}},
        {"id": "bad", "input": {"type": "text", "base64": b64(b"refuse")}},
    ]
    return WordsCell(meta=_meta(version, listed))


def test_a_sample_is_rendered_once_per_instance_and_version() -> None:
    viewer, cell = Visualizer(), visualized()
    data, media_type = viewer.render("deck", cell, "hello")
    assert media_type == "application/json"
    assert json.loads(data)["result"] == {"text": "hello", "lang": "en"}
    assert json.loads(data)["sample"]["id"] == "hello"
    assert viewer.render("deck", cell, "hello") == (data, media_type)
    assert len(cell.runs) == 1
    assert cell.runs[0][0].run_id == "viz-hello"
    viewer.render("corp", cell, "hello")  # another instance's version may differ
    assert len(cell.runs) == 2
    newer = visualized("1.1.0")
    viewer.render("deck", newer, "hello")
    assert len(newer.runs) == 1


def test_a_cells_own_drawing_is_used() -> None:
    class Drawn(WordsCell):
        def visualize(self, payload: Payload, result: CellResult) -> tuple[bytes, str]:
            return b"<svg>" + payload.data + b"</svg>", "image/svg+xml"

    drawn = Drawn(meta=visualized().meta)
    assert Visualizer().render("deck", drawn, "hello") == (b"<svg>hello</svg>", "image/svg+xml")


def test_unknown_and_failing_samples_are_404_and_not_cached() -> None:
    viewer, cell = Visualizer(), visualized()
    with pytest.raises(NotFound, match="no visualization sample 'nope'; samples: hello, bad"):
        viewer.render("deck", cell, "nope")
    with pytest.raises(NotFound, match="'bad' cannot be rendered here: this input is refused"):
        viewer.render("deck", cell, "bad")
    with pytest.raises(NotFound):
        viewer.render("deck", cell, "bad")
    assert len(cell.runs) == 2  # a failure is tried again, not remembered
    with pytest.raises(NotFound, match="samples: none"):
        viewer.render("deck", WordsCell(), "hello")


def test_the_renderings_held_are_bounded() -> None:
    viewer, cell = Visualizer(), visualized()
    for n in range(RENDERED_SAMPLES + 1):
        viewer.render(f"instance-{n}", cell, "hello")
    runs = len(cell.runs)
    viewer.render("instance-0", cell, "hello")  # the oldest was let go
    assert len(cell.runs) == runs + 1
    viewer.render(f"instance-{RENDERED_SAMPLES}", cell, "hello")  # the newest is held
    assert len(cell.runs) == runs + 1
