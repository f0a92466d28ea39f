"""A cell's own examples: its `testCases` (input, expectations) and the samples of its
`visualizationSample`, run against the cell itself."""

import base64
import binascii
import json
import threading
import time
import uuid
from typing import Any

from cachetools import LRUCache

from tzzr import samples
from tzzr.cells.base import Cell, CellContext, CellFailed, CellResult, Payload
from tzzr.errors import InvalidInput, NotFound, TzzrError

RENDERED_SAMPLES = 256  # (instance, cell, version, sample) renderings held at once


def sample_payload(spec: dict[str, Any]) -> Payload:
    """`{"type", "sample": "<bundled file>"}` or `{"type", "base64": "…"}`; no input
    at all (a renderer) is an empty payload of type "none"."""
    if not spec:
        return Payload("none", b"")
    kind = str(spec.get("type", "bytes"))
    if "sample" in spec:
        try:
            return Payload(kind, samples.read(str(spec["sample"])), spec.get("media_type"))
        except FileNotFoundError as exc:
            raise NotFound(str(exc)) from exc
    try:
        return Payload(kind, base64.b64decode(str(spec.get("base64", "")), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"a test input's base64 is invalid ({exc})", field="input") from exc


def _text_of(result: CellResult) -> str:
    text = result.result.get("text")
    return text if isinstance(text, str) else json.dumps(result.result, ensure_ascii=False)


def run_case(cell: Cell, case: dict[str, Any]) -> dict[str, Any]:
    """One test case: its latency, and whether each expectation held."""
    payload = sample_payload(case.get("input") or {})
    context = CellContext(uuid.uuid4().hex, case.get("lang"), dict(case.get("params") or {}))
    report: dict[str, Any] = {"name": case.get("name", "case")}
    started = time.perf_counter()
    try:
        result = cell.run(context, payload)
    except TzzrError as exc:
        report.update(ok=False, error=exc.message, latencyMs=None)
        return report
    report["latencyMs"] = round((time.perf_counter() - started) * 1000, 2)
    report["device"] = result.device
    text = _text_of(result).casefold()
    missing = [w for w in case.get("expect", {}).get("contains", []) if w.casefold() not in text]
    report.update(ok=not missing, missing=missing)
    return report


class Visualizer:
    """Serves a cell's visualization samples, rendered once per cell version."""

    def __init__(self) -> None:
        # Keyed by instance too: two instances' versions of a cell may share an id and
        # version (each specialises or registers its own) and render differently.
        # Bounded: every instance may register versions without end.
        self._cache: LRUCache[tuple[str, str, str, str], tuple[bytes, str]] = LRUCache(
            maxsize=RENDERED_SAMPLES
        )
        self._lock = threading.Lock()

    def render(self, h_instancia: str, cell: Cell, sample_id: str) -> tuple[bytes, str]:
        key = (h_instancia, cell.meta.id, cell.meta.version, sample_id)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        listed = cell.meta.visualization_sample.get("samples", [])
        found = next((s for s in listed if s.get("id") == sample_id), None)
        if found is None:
            known = ", ".join(str(s.get("id")) for s in listed) or "none"
            raise NotFound(
                f"cell {cell.meta.id} has no visualization sample {sample_id!r}; samples: {known}"
            )
        payload = sample_payload(found.get("input") or {})
        context = CellContext(
            f"viz-{sample_id}", found.get("lang"), dict(found.get("params") or {})
        )
        try:
            result = cell.run(context, payload)
        except CellFailed as exc:
            raise NotFound(f"sample {sample_id!r} cannot be rendered here: {exc.message}") from exc
        draw = getattr(cell, "visualize", None)
        if draw is not None:
            rendered: tuple[bytes, str] = draw(payload, result)
        else:
            rendered = (
                json.dumps({"sample": found, "result": result.result}, ensure_ascii=False).encode(),
                "application/json",
            )
        with self._lock:
            self._cache[key] = rendered
        return rendered
