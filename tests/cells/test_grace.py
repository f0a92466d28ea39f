"""GRACE's one code path (cells/grace.py `execute`): a contract 2.1 envelope routed to
its cell by module, answered in RunPod's shapes: COMPLETED with the result, its
artifacts inline (base64 and sha256) and its metrics; FAILED with the reason for input
the cell cannot process; an unknown module is 404, a payload type the cell does not
take 422 naming payload.type. Over HTTP (/grace/runsync) in tests/api/test_grace.py;
the RunPod handler in tests/cells/test_runpod.py."""

import base64
import hashlib
import time
from typing import Any

import pytest

from tzzr.cells.base import Artifact, CellContext, CellFailed, CellResult, Payload
from tzzr.cells.envelope import Envelope, load_payload
from tzzr.cells.grace import execute
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.registry import Registry
from tzzr.errors import InvalidInput, NotFound

PNG = b"\x89PNG\r\n\x1a\n not really a picture"


class Drawing:
    """Draws its input: a PNG artifact beside the JSON result; refuses an empty input."""

    module = "TEST_DRAWING"
    accepts = frozenset({"image", "none"})

    def __init__(self) -> None:
        self.meta = KnowledgeCell(
            id="test-drawing",
            type="test",
            version="1.0.0",
            description="Draws its input.",
            api_endpoint="/api/cells/test-drawing/run",
            microservice_url="",
            author="TZZR tests",
        )
        self.seen: list[CellContext] = []

    def check_params(self, params: dict[str, Any]) -> None:
        if params.get("size", 1) < 1:
            raise InvalidInput("size must be at least 1", field="params.size")

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        self.seen.append(context)
        if payload.type == "image" and not payload.data:
            raise CellFailed("the image is empty", field="payload.content")
        return CellResult(
            {"size": len(payload.data), "lang": context.lang},
            engine="drawing",
            artifacts={"frame.png": Artifact(PNG, "image/png")},
            metrics={"fps": 25.0},
        )


@pytest.fixture
def drawing() -> Drawing:
    return Drawing()


def envelope(
    content: bytes = b"pixels", kind: str = "image", module: str = "TEST_DRAWING", **extra: Any
) -> Envelope:
    return Envelope.model_validate(
        {
            "contract_version": "2.1",
            "routing": {"module": module},
            "payload": {
                "type": kind,
                "encoding": "base64",
                "content": base64.b64encode(content).decode(),
            },
            **extra,
        }
    )


def load(given: Envelope) -> Payload:
    return load_payload(given, None, 1024 * 1024)


def test_a_run_completes_with_its_artifacts_inline(drawing: Drawing) -> None:
    given = envelope(context={"lang": "es"}, params={"size": 2})
    done = execute(Registry([drawing]), given, load, run_id="run-1")
    assert (done["id"], done["status"]) == ("run-1", "COMPLETED")
    output = done["output"]
    assert output["status"] == "ok"
    assert output["result"]["size"] == len(b"pixels") and output["result"]["lang"] == "es"
    assert output["result"]["artifacts"] == {
        "frame.png": {
            "mediaType": "image/png",
            "size": len(PNG),
            "sha256": hashlib.sha256(PNG).hexdigest(),
            "base64": base64.b64encode(PNG).decode(),
        }
    }
    metrics = output["metrics"]
    assert metrics["engine"] == "drawing" and metrics["fps"] == 25.0
    assert metrics["latencyMs"] == done["executionTime"] >= 0
    (context,) = drawing.seen
    assert context.run_id == "run-1" and dict(context.params) == {"size": 2}


def test_each_run_gets_its_own_id_and_the_callers_deadline(drawing: Drawing) -> None:
    deadline = time.monotonic() + 30
    first = execute(Registry([drawing]), envelope(b"", "none"), load, deadline=deadline)
    second = execute(Registry([drawing]), envelope(b"", "none"), load)
    assert first["status"] == second["status"] == "COMPLETED"
    assert len(first["id"]) == 32 and first["id"] != second["id"]
    assert [c.deadline for c in drawing.seen] == [deadline, None]


def test_input_the_cell_cannot_process_is_a_failed_run(drawing: Drawing) -> None:
    failed = execute(Registry([drawing]), envelope(b""), load, run_id="run-2")
    assert failed == {
        "id": "run-2",
        "status": "FAILED",
        "error": "the image is empty",
        "output": {
            "status": "error",
            "error": {
                "code": "cell_failed",
                "message": "the image is empty",
                "field": "payload.content",
            },
        },
    }
    corrupt = envelope().model_copy(
        update={"payload": envelope().payload.model_copy(update={"content": "!!!"})}
    )
    bad64 = execute(Registry([drawing]), corrupt, load)
    assert bad64["status"] == "FAILED" and "not valid base64" in bad64["error"]
    assert bad64["output"]["error"]["field"] == "payload.content"
    assert [c.run_id for c in drawing.seen] == ["run-2"]  # bad base64 never reached it


def test_an_unknown_module_is_not_found(drawing: Drawing) -> None:
    with pytest.raises(NotFound, match=r"unknown module 'TELEPATHY'.*TEST_DRAWING") as raised:
        execute(Registry([drawing]), envelope(module="TELEPATHY"), load)
    assert raised.value.status == 404


def test_a_payload_type_the_cell_does_not_take_is_refused_before_loading(
    drawing: Drawing,
) -> None:
    loaded: list[Envelope] = []

    def counting(given: Envelope) -> Payload:
        loaded.append(given)
        return load(given)

    with pytest.raises(InvalidInput) as raised:
        execute(Registry([drawing]), envelope(kind="audio"), counting)
    assert raised.value.status == 422 and raised.value.field == "payload.type"
    assert "image, none" in raised.value.message and "'audio'" in raised.value.message
    with pytest.raises(InvalidInput) as bad_param:  # a bad parameter: refused, not FAILED
        execute(Registry([drawing]), envelope(params={"size": 0}), counting)
    assert bad_param.value.field == "params.size"
    assert loaded == [] and drawing.seen == []
