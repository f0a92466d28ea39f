"""Flow specs in the database, one instance's each, versioned: create, update (a new
version), delete (a tombstone), and the current spec of each flow for matching captures.
The shipped flows are templates: an instance gets its own copy when it is created."""

import threading
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache, TTLCache
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr.db.engine import write_transaction
from tzzr.db.models import Flow
from tzzr.errors import Conflict, NotFound
from tzzr.flows.defaults import DEFAULT_FLOWS
from tzzr.flows.spec import FlowSpec, validate
from tzzr.times import rfc3339

CACHE_SECONDS = 1.0  # other processes' changes are seen within this
CACHE_SIZE = 1000  # instances (current flows), and (instance, flow, version) specs


def flow_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "spec": row.spec,
        "createdAt": rfc3339(row.created_at),
    }


class FlowStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        # Both shared by the server's threads, read and written under the lock.
        self._cache: TTLCache[str, list[tuple[int, FlowSpec]]] = TTLCache(
            maxsize=CACHE_SIZE, ttl=CACHE_SECONDS
        )
        self._specs: LRUCache[tuple[str, str, int], FlowSpec] = LRUCache(maxsize=CACHE_SIZE)

    def _current_rows(self, h_instancia: str) -> list[Any]:
        newest = (
            select(Flow.id, func.max(Flow.version).label("version"))
            .where(Flow.h_instancia == h_instancia)
            .group_by(Flow.id)
            .subquery()
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Flow)
                .join(newest, (Flow.id == newest.c.id) & (Flow.version == newest.c.version))
                .where(Flow.h_instancia == h_instancia)
                .order_by(Flow.id)
            ).all()
        return [row for row in rows if not row.deleted]

    def live(self, h_instancia: str) -> list[Any]:
        """The newest version of every flow of the instance that is not deleted."""
        return self._current_rows(h_instancia)

    def get(self, h_instancia: str, flow_id: str, version: int | None = None) -> Any:
        query = select(Flow).where(Flow.h_instancia == h_instancia, Flow.id == flow_id)
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

    def spec(self, h_instancia: str, flow_id: str, version: int) -> FlowSpec:
        """A flow's spec at a version (versions never change: cached)."""
        key = (h_instancia, flow_id, version)
        with self._lock:
            found = self._specs.get(key)
        if found is None:
            found = validate(self.get(h_instancia, flow_id, version).spec)
            with self._lock:
                self._specs[key] = found
        return found

    def _write(self, h_instancia: str, spec: FlowSpec, version: int, deleted: bool = False) -> Any:
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(
                    insert(Flow).values(
                        h_instancia=h_instancia,
                        id=spec.id,
                        version=version,
                        spec=spec.model_dump(mode="json", by_alias=True),
                        deleted=deleted,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"flow {spec.id!r} changed meanwhile; read it and try again") from exc
        with self._lock:
            self._cache.pop(h_instancia, None)
        return self.get(h_instancia, spec.id, version)

    def _latest_version(self, h_instancia: str, flow_id: str) -> tuple[int, bool]:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(Flow.version, Flow.deleted)
                .where(Flow.h_instancia == h_instancia, Flow.id == flow_id)
                .order_by(Flow.version.desc())
                .limit(1)
            ).first()
        return (row.version, row.deleted) if row else (0, True)

    def create(self, h_instancia: str, spec: FlowSpec) -> Any:
        version, deleted = self._latest_version(h_instancia, spec.id)
        if not deleted:
            raise Conflict(f"flow {spec.id!r} exists; PUT /flows/{spec.id} makes a new version")
        return self._write(h_instancia, spec, version + 1)

    def update(self, h_instancia: str, flow_id: str, spec: FlowSpec) -> Any:
        if spec.id != flow_id:
            raise Conflict(f"the spec's id {spec.id!r} is not {flow_id!r}")
        version, deleted = self._latest_version(h_instancia, flow_id)
        if deleted and version == 0:
            raise NotFound(f"no flow {flow_id!r}; POST /flows creates it")
        return self._write(h_instancia, spec, version + 1)

    def delete(self, h_instancia: str, flow_id: str) -> None:
        row = self.get(h_instancia, flow_id)
        self._write(h_instancia, validate(row.spec), row.version + 1, deleted=True)

    def install_defaults(self, h_instancia: str) -> list[str]:
        """Copy the shipped flows into an instance: those it never had (a flow its admin
        changed or deleted is left as it is). Returns the ids installed."""
        with self._engine.connect() as conn:
            had = set(
                conn.execute(select(Flow.id).where(Flow.h_instancia == h_instancia)).scalars()
            )
        installed = []
        for data in DEFAULT_FLOWS:
            spec = validate(data)
            if spec.id not in had:
                self._write(h_instancia, spec, 1)
                installed.append(spec.id)
        return installed

    def current(self, h_instancia: str) -> list[tuple[int, FlowSpec]]:
        """(version, spec) of every live flow of the instance, highest priority first;
        cached briefly."""
        with self._lock:
            cached = self._cache.get(h_instancia)
        if cached is not None:
            return cached
        specs = [(row.version, validate(row.spec)) for row in self._current_rows(h_instancia)]
        specs.sort(key=lambda item: (-item[1].priority, item[1].id))
        with self._lock:
            self._cache[h_instancia] = specs
        return specs

    def match(
        self, h_instancia: str, instance: str, media_types: list[str], metadata: dict[str, Any]
    ) -> tuple[int, FlowSpec] | None:
        """The instance's flow a capture goes through: the first (by priority) whose
        trigger matches, else a fallback flow, else none."""
        fallback = None
        for version, spec in self.current(h_instancia):
            if spec.trigger.on != "ingest":
                continue
            if spec.trigger.fallback:
                if fallback is None and spec.matches(instance, media_types, metadata):
                    fallback = (version, spec)
                continue
            if spec.matches(instance, media_types, metadata):
                return version, spec
        return fallback
