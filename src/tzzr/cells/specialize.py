"""Specializing a cell: a new version (semver bump) that carries a specialization
prompt and parameter defaults, measured against the cell's test cases and the caller's
constraints (latencyMs, maxGpuMemoryMb). THE FACTORY (tzzr.factory.tune) runs the rounds
that choose the defaults; these are the pieces it measures and publishes with."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tzzr.cells.base import Cell
from tzzr.cells.catalog import Catalog, Specialized, semver_key
from tzzr.cells.meta import SEMVER
from tzzr.cells.remote import RemoteCell
from tzzr.cells.samples import run_case
from tzzr.errors import Conflict, InvalidInput

CONSTRAINTS = ("latencyMs", "maxGpuMemoryMb")
MAX_ROUNDS = 20


class SpecializeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=20_000)
    constraints: dict[str, float] = {}
    params: dict[str, Any] = {}
    version: str | None = None
    # THE FACTORY: how many parameter sets to try (default 3 when there is something to
    # tune, else 1), and the ranges to tune in (default: the cell's numeric params).
    rounds: int | None = Field(default=None, ge=1, le=MAX_ROUNDS)
    space: dict[str, Any] = {}

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


def base_of(catalog: Catalog, h_instancia: str, cell_id: str) -> Cell:
    """The newest version of an in-process cell (a remote one is specialised on its GRACE)."""
    newest = catalog.get(h_instancia, cell_id)
    if isinstance(newest, RemoteCell):
        raise InvalidInput(
            f"{cell_id} is a remote cell: specialize it on the GRACE that runs it",
            field="cellId",
        )
    return newest


def version_for(newest: Cell, wanted: str | None) -> str:
    version = wanted or next_minor(newest.meta.version)
    if semver_key(version) <= semver_key(newest.meta.version):
        raise Conflict(
            f"version {version} is not newer than {newest.meta.id} {newest.meta.version}"
        )
    return version


def candidate(newest: Cell, version: str, prompt: str, defaults: dict[str, Any]) -> Specialized:
    """The new version as it would run: the root engine with these defaults."""
    root = newest.base if isinstance(newest, Specialized) else newest
    now = datetime.now(UTC)
    meta = newest.meta.model_copy(
        update={
            "version": version,
            "ia_specialization_prompt": prompt,
            "created": now,
            "updated": now,
        }
    )
    return Specialized(root, meta, defaults)


def measure(cell: Cell, constraints: dict[str, float]) -> dict[str, Any]:
    """The cell's test cases run, and each constraint checked against them."""
    reports = [run_case(cell, case) for case in cell.meta.test_cases]
    checks = [check(name, limit, reports) for name, limit in constraints.items()]
    return {
        "testCases": reports,
        "constraints": checks,
        "casesOk": sum(1 for r in reports if r["ok"]),
        "meets": all(c["holds"] is True for c in checks),
        "allHold": all(c["holds"] is True for c in checks) and all(r["ok"] for r in reports),
    }


def publish(catalog: Catalog, h_instancia: str, cell: Specialized) -> None:
    """Register the new version for one instance (no other sees it); publishing the same
    version with the same defaults again (a resumed job) changes nothing."""
    root = cell.base
    try:
        catalog.register(
            h_instancia,
            cell.meta,
            root.module,
            sorted(root.accepts),
            base=root.meta.id,
            defaults=cell.defaults,
        )
    except Conflict:
        existing = catalog.get(h_instancia, cell.meta.id, cell.meta.version)
        if not (isinstance(existing, Specialized) and existing.defaults == cell.defaults):
            raise


def check(name: str, limit: float, reports: list[dict[str, Any]]) -> dict[str, Any]:
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
