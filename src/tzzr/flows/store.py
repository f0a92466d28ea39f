"""Flow specs in the database, versioned: create, update (a new version), delete (a
tombstone), and the current spec of each flow for matching captures."""

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr.db.engine import write_transaction
from tzzr.db.models import Flow
from tzzr.errors import Conflict, NotFound
from tzzr.flows.defaults import DEFAULT_FLOWS
from tzzr.flows.spec import FlowSpec, validate

CACHE_SECONDS = 1.0  # other processes' changes are seen within this


def flow_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "spec": row.spec,
        "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
    }


class FlowStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._cache: tuple[float, list[tuple[int, FlowSpec]]] | None = None
        self._specs: dict[tuple[str, int], FlowSpec] = {}

    def _current_rows(self) -> list[Any]:
        newest = (
            select(Flow.id, func.max(Flow.version).label("version")).group_by(Flow.id).subquery()
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Flow)
                .join(newest, (Flow.id == newest.c.id) & (Flow.version == newest.c.version))
                .order_by(Flow.id)
            ).all()
        return [row for row in rows if not row.deleted]

    def live(self) -> list[Any]:
        """The newest version of every flow that is not deleted."""
        return self._current_rows()

    def get(self, flow_id: str, version: int | None = None) -> Any:
        query = select(Flow).where(Flow.id == flow_id)
        query = (
            query.where(Flow.version == version)
            if version is not None
            else query.order_by(Flow.version.desc()).limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or (version is None and row.deleted):
            raise NotFound(f"no flow {flow_id!r}")
        return row

    def spec(self, flow_id: str, version: int) -> FlowSpec:
        """A flow's spec at a version (versions never change: cached)."""
        key = (flow_id, version)
        found = self._specs.get(key)
        if found is None:
            found = validate(self.get(flow_id, version).spec)
            with self._lock:
                if len(self._specs) > 1000:
                    self._specs.clear()
                self._specs[key] = found
        return found

    def _write(self, spec: FlowSpec, version: int, deleted: bool = False) -> Any:
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    insert(Flow).values(
                        id=spec.id,
                        version=version,
                        spec=spec.model_dump(mode="json", by_alias=True),
                        deleted=deleted,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"flow {spec.id!r} changed meanwhile; read it and try again") from exc
        self._cache = None
        return self.get(spec.id, version)

    def _latest_version(self, flow_id: str) -> tuple[int, bool]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Flow.version, Flow.deleted)
                .where(Flow.id == flow_id)
                .order_by(Flow.version.desc())
                .limit(1)
            ).first()
        return (row.version, row.deleted) if row else (0, True)

    def create(self, spec: FlowSpec) -> Any:
        version, deleted = self._latest_version(spec.id)
        if not deleted:
            raise Conflict(f"flow {spec.id!r} exists; PUT /flows/{spec.id} makes a new version")
        return self._write(spec, version + 1)

    def update(self, flow_id: str, spec: FlowSpec) -> Any:
        if spec.id != flow_id:
            raise Conflict(f"the spec's id {spec.id!r} is not {flow_id!r}")
        version, deleted = self._latest_version(flow_id)
        if deleted and version == 0:
            raise NotFound(f"no flow {flow_id!r}; POST /flows creates it")
        return self._write(spec, version + 1)

    def delete(self, flow_id: str) -> None:
        row = self.get(flow_id)
        self._write(validate(row.spec), row.version + 1, deleted=True)

    def ensure_defaults(self) -> int:
        """Install the shipped flows once, on a database that has no flows at all."""
        with self._engine.connect() as conn:
            if conn.execute(select(Flow.id).limit(1)).first() is not None:
                return 0
        for data in DEFAULT_FLOWS:
            self._write(validate(data), 1)
        return len(DEFAULT_FLOWS)

    def current(self) -> list[tuple[int, FlowSpec]]:
        """(version, spec) of every live flow, highest priority first; cached briefly."""
        with self._lock:
            cached = self._cache
            if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
                return cached[1]
        specs = [(row.version, validate(row.spec)) for row in self._current_rows()]
        specs.sort(key=lambda item: (-item[1].priority, item[1].id))
        with self._lock:
            self._cache = (time.monotonic(), specs)
        return specs

    def match(
        self, instance: str, media_types: list[str], metadata: dict[str, Any]
    ) -> tuple[int, FlowSpec] | None:
        """The flow a capture goes through: the first (by priority) whose trigger
        matches, else a fallback flow, else none."""
        fallback = None
        for version, spec in self.current():
            if spec.trigger.on != "ingest":
                continue
            if spec.trigger.fallback:
                if fallback is None and spec.matches(instance, media_types, metadata):
                    fallback = (version, spec)
                continue
            if spec.matches(instance, media_types, metadata):
                return version, spec
        return fallback
