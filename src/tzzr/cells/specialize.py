"""Specializing a cell: a new version (semver bump) that carries a specialization
prompt and parameter defaults, checked against the cell's test cases and the caller's
constraints (latencyMs, maxGpuMemoryMb), reporting which hold."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tzzr.cells.catalog import Catalog, Specialized, semver_key
from tzzr.cells.meta import SEMVER
from tzzr.cells.remote import RemoteCell
from tzzr.cells.samples import run_case
from tzzr.errors import Conflict, InvalidInput

CONSTRAINTS = ("latencyMs", "maxGpuMemoryMb")
Progress = Callable[[int, int, str], None]


class SpecializeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=20_000)
    constraints: dict[str, float] = {}
    params: dict[str, Any] = {}
    version: str | None = None

    @field_validator("constraints")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CONSTRAINTS))
        if unknown:
            raise ValueError(
                f"unknown constraint {', '.join(unknown)}; known: {', '.join(CONSTRAINTS)}"
            )
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str | None) -> str | None:
        if value is not None and not SEMVER.fullmatch(value):
            raise ValueError(f"version {value!r} is not semantic versioning (MAJOR.MINOR.PATCH)")
        return value


def next_minor(version: str) -> str:
    major, minor, _ = semver_key(version)[:3]
    return f"{major}.{minor + 1}.0"


def specialize(
    catalog: Catalog, h_instancia: str, cell_id: str, body: SpecializeBody, progress: Progress
) -> dict[str, Any]:
    """A new version of a cell for one instance: no other instance sees it."""
    newest = catalog.get(h_instancia, cell_id)
    if isinstance(newest, RemoteCell):
        raise InvalidInput(
            f"{cell_id} is a remote cell: specialize it on the GRACE that runs it",
            field="cellId",
        )
    root = newest.base if isinstance(newest, Specialized) else newest
    defaults = {**(newest.defaults if isinstance(newest, Specialized) else {}), **body.params}
    version = body.version or next_minor(newest.meta.version)
    if semver_key(version) <= semver_key(newest.meta.version):
        raise Conflict(f"version {version} is not newer than {cell_id} {newest.meta.version}")
    now = datetime.now(UTC)
    meta = newest.meta.model_copy(
        update={
            "version": version,
            "ia_specialization_prompt": body.prompt,
            "created": now,
            "updated": now,
        }
    )
    candidate = Specialized(root, meta, defaults)
    cases = list(meta.test_cases)
    reports = []
    progress(0, len(cases), "running test cases")
    for done, case in enumerate(cases, 1):
        reports.append(run_case(candidate, case))
        progress(done, len(cases), f"test case {case.get('name', done)}")
    checks = [_check(name, limit, reports) for name, limit in body.constraints.items()]
    catalog.register(
        h_instancia, meta, root.module, sorted(root.accepts), base=root.meta.id, defaults=defaults
    )
    return {
        "cellId": cell_id,
        "version": version,
        "from": newest.meta.version,
        "defaults": defaults,
        "testCases": reports,
        "constraints": checks,
        "allHold": all(c["holds"] is True for c in checks) and all(r["ok"] for r in reports),
    }


def _check(name: str, limit: float, reports: list[dict[str, Any]]) -> dict[str, Any]:
    if name == "latencyMs":
        latencies = [r["latencyMs"] for r in reports if r.get("latencyMs") is not None]
        measured = max(latencies) if latencies else None
        return {
            "name": name,
            "limit": limit,
            "measured": measured,
            "holds": measured is not None and measured <= limit,
            "detail": "the slowest test case" if latencies else "no test case ran",
        }
    devices = {r.get("device") for r in reports if r.get("ok")}
    if devices and devices <= {"cpu"}:
        return {
            "name": name,
            "limit": limit,
            "measured": 0.0,
            "holds": limit >= 0.0,
            "detail": "the cell ran on the CPU: no GPU memory used",
        }
    return {
        "name": name,
        "limit": limit,
        "measured": None,
        "holds": None,
        "detail": "GPU memory is not measured for this cell's device",
    }
