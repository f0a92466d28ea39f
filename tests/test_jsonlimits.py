"""The JSON depth limit: 64 levels pass, 65 do not, a document too deep for the parser
itself is refused naming where it went deep, and a long flat document is not slowed."""

import json
from typing import Any

import pytest
from pydantic import BaseModel

from tzzr.errors import InvalidInput
from tzzr.jsonlimits import MAX_DEPTH, check_depth, deep_point, loads


def objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_the_limit_counts_objects_and_arrays() -> None:
    assert MAX_DEPTH == 64
    loads(objects(64))
    loads(arrays(64))
    for raw in (objects(65), arrays(65)):
        with pytest.raises(InvalidInput, match="more than 64 levels"):
            loads(raw)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"metadata": {"a": ' + arrays(100_000) + b"}}", "metadata.a"),
        (b'{"metadata": ' + objects(100_000) + b"}", "metadata.a"),
        (b'{"steps": [{"id": "s"}, {"params": ' + objects(100_000) + b"}]}", "steps[1].params"),
        (b'{"x": "[[[[{{{{", "y": ' + arrays(100_000) + b"}", "y"),
        (arrays(100_000), "body"),
        (b'{"metadata": {"a": ' + arrays(100) + b"}}", "metadata.a"),  # parsed, then walked
    ],
)
def test_too_deep_is_a_422_naming_where(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        loads(raw)
    assert caught.value.status == 422 and caught.value.field == field


def test_a_part_named_by_its_caller_keeps_that_name() -> None:
    with pytest.raises(InvalidInput) as caught:
        loads(objects(100_000), "metadata")
    assert caught.value.field == "metadata.a"
    with pytest.raises(InvalidInput) as walked:
        loads(objects(70), "metadata")
    assert walked.value.field == "metadata.a"


def test_the_parsers_text_and_the_walk_name_the_same_place() -> None:
    raw = b'{"k": [1, {"deep": ' + arrays(MAX_DEPTH) + b"}]}"
    assert deep_point(raw) == "k[1].deep"
    with pytest.raises(InvalidInput) as caught:
        check_depth(json.loads(raw))
    assert caught.value.field == "k[1].deep"


def test_models_count_as_a_level() -> None:
    class Body(BaseModel):
        params: dict[str, Any] = {}

    check_depth(Body(params=json.loads(objects(MAX_DEPTH - 1))))
    with pytest.raises(InvalidInput) as caught:
        check_depth(Body(params=json.loads(objects(MAX_DEPTH))))
    assert caught.value.field == "params.a"


def test_not_json_says_so() -> None:
    with pytest.raises(InvalidInput, match="the body is not valid JSON") as caught:
        loads(b"{nope")
    assert caught.value.field == "body"


@pytest.mark.timeout(30)
def test_wide_documents_pass() -> None:
    wide = {"rows": [[i, {"v": [i]}] for i in range(100_000)], "flat": list(range(500_000))}
    assert loads(json.dumps(wide).encode()) == wide
