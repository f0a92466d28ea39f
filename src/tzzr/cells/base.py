"""The cell contract. A cell MUST be an object with `meta` (its KnowledgeCell),
`module` (the GRACE routing name, e.g. OCR_CORE), `accepts` (payload types) and
`run(context, payload) -> CellResult`. It MAY have `check_params(params)`, raising
InvalidInput naming the parameter, so that a bad one is refused when the run is
submitted (422) rather than when it runs, and `max_input_bytes`, the largest input it
takes when that is not the `cell_max_input_bytes` setting (inputs are held in memory;
a larger one is refused before it is read: see tzzr.cells.limits). It MUST NOT keep
state between runs that changes results, and SHOULD raise CellFailed with a message
that says what is wrong with the input. Built-in cells register exactly like
third-party ones: a factory in the `tzzr.cells` entry-point group."""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from tzzr.cells.meta import KnowledgeCell
from tzzr.errors import TzzrError


class CellFailed(TzzrError):
    """The run failed because of its input (corrupt image, unknown language, …)."""

    status = 422
    code = "cell_failed"


@dataclass(frozen=True)
class CellContext:
    run_id: str
    lang: str | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    deadline: float | None = None  # time.monotonic() past which nobody waits for the answer

    def seconds_left(self, at_most: float) -> float:
        """What is left of the caller's wait, at most `at_most`: a subprocess's timeout.
        A cell SHOULD stop when it reaches 0 (its answer would be thrown away)."""
        if self.deadline is None:
            return at_most
        return max(0.0, min(at_most, self.deadline - time.monotonic()))


@dataclass(frozen=True)
class Payload:
    type: str
    data: bytes
    media_type: str | None = None


@dataclass(frozen=True)
class Artifact:
    """Bytes a run produces beside its JSON result (a PNG, an animation): stored as a
    blob of the run's instance and referenced from the result by sha256."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class CellResult:
    result: dict[str, Any]
    engine: str
    model: str | None = None
    device: str = "cpu"
    artifacts: Mapping[str, Artifact] = field(default_factory=lambda: MappingProxyType({}))
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


@runtime_checkable
class Cell(Protocol):
    @property
    def meta(self) -> KnowledgeCell: ...
    @property
    def module(self) -> str: ...
    @property
    def accepts(self) -> frozenset[str]: ...

    def run(self, context: CellContext, payload: Payload) -> CellResult: ...
