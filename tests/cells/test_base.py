"""The cell contract: the frozen context and its remaining wait, the result's defaults,
what counts as a Cell, and CellFailed's answer."""

import time
from types import MappingProxyType

import pytest

from tests.cells.test_registry import EchoCell
from tzzr.cells.base import Cell, CellContext, CellFailed, CellResult, Payload
from tzzr.errors import TzzrError


def test_the_context_is_frozen() -> None:
    context = CellContext("r", "es", {"a": 1})
    with pytest.raises(AttributeError):
        context.lang = "en"  # type: ignore[misc]


def test_without_a_deadline_a_cell_may_take_all_it_asks_for() -> None:
    assert CellContext("r").seconds_left(12.5) == 12.5


def test_the_remaining_wait_is_capped_by_the_deadline_and_never_negative() -> None:
    far = CellContext("r", deadline=time.monotonic() + 3600)
    assert far.seconds_left(5.0) == 5.0
    near = CellContext("r", deadline=time.monotonic() + 2.0)
    left = near.seconds_left(60.0)
    assert 1.0 < left <= 2.0
    assert near.seconds_left(60.0) <= left  # the clock runs on
    past = CellContext("r", deadline=time.monotonic() - 1)
    assert past.seconds_left(60.0) == 0.0


def test_contexts_and_results_share_no_mutable_defaults() -> None:
    one, two = CellContext("a"), CellContext("b")
    assert dict(one.params) == {} and isinstance(one.params, MappingProxyType)
    with pytest.raises(TypeError):
        one.params["x"] = 1  # type: ignore[index]
    assert one.lang is None and one.deadline is None and two.params == {}
    result = CellResult({"text": "hi"}, engine="echo")
    assert (result.model, result.device) == (None, "cpu")
    assert dict(result.artifacts) == {} and dict(result.metrics) == {}
    assert Payload("text", b"x").media_type is None


def test_a_cell_is_anything_with_meta_module_accepts_and_run() -> None:
    assert isinstance(EchoCell(), Cell)

    class NoRun:
        meta = EchoCell.meta
        module = "X"
        accepts = frozenset({"text"})

    assert not isinstance(NoRun(), Cell)


def test_a_failed_cell_is_422_naming_the_field() -> None:
    failed = CellFailed("the image is corrupt", field="payload.content")
    assert isinstance(failed, TzzrError)
    assert (failed.status, failed.code) == (422, "cell_failed")
    assert failed.message == "the image is corrupt" and failed.field == "payload.content"
