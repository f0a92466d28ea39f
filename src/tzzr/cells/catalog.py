"""Every cell an instance can run: the installed ones (entry points: templates every
instance shares, read-only) and the instance's own, registered over HTTP (remote cells,
and specialized versions), by id and version. No instance sees another's."""

import threading
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr.cells.base import Cell, CellContext, CellResult, Payload
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.registry import Registry
from tzzr.cells.remote import RemoteCell
from tzzr.db.engine import write_transaction
from tzzr.db.models import RegisteredCell
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.outbound import OutboundPolicy, check_url


@dataclass
class Specialized:
    """A new version of a cell: the same engine with its own parameter defaults and
    specialization prompt."""

    base: Cell
    meta: KnowledgeCell
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.base.module

    @property
    def accepts(self) -> frozenset[str]:
        return self.base.accepts

    def __getattr__(self, name: str) -> Any:
        # health, visualize, queue, timeout_s: the base cell's
        if name.startswith("__") or name in ("base", "meta", "defaults"):
            raise AttributeError(name)
        return getattr(self.base, name)

    def check_params(self, params: dict[str, Any]) -> None:
        check = getattr(self.base, "check_params", None)
        if check is not None:
            check({**self.defaults, **params})

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        params = {**self.defaults, **context.params}
        return self.base.run(CellContext(context.run_id, context.lang, params), payload)


CACHE_SECONDS = 1.0
CACHE_SIZE = 1000  # instances whose registered cells are held


def semver_key(version: str) -> tuple[int, ...]:
    core = version.split("-", 1)[0].split("+", 1)[0]
    return tuple(int(part) for part in core.split("."))


class Catalog:
    def __init__(
        self, engine: Engine, local: Registry, policy: OutboundPolicy | None = None
    ) -> None:
        self._engine = engine
        self.local = local
        self.policy = policy or OutboundPolicy()
        # Shared by the server's threads: read and written under the lock.
        self._cache: TTLCache[str, list[RegisteredCell]] = TTLCache(
            maxsize=CACHE_SIZE, ttl=CACHE_SECONDS
        )
        self._lock = threading.Lock()

    def _registered(
        self, h_instancia: str, cell_id: str | None = None, fresh: bool = False
    ) -> list[RegisteredCell]:
        """The instance's cells registered over HTTP, read at most every CACHE_SECONDS
        (and again on a miss, so that a cell registered by another process a moment ago
        is found)."""
        with self._lock:
            rows = None if fresh else self._cache.get(h_instancia)
        if rows is None:
            with self._engine.connect() as conn:
                rows = [
                    RegisteredCell(**row._mapping)
                    for row in conn.execute(
                        select(RegisteredCell).where(RegisteredCell.h_instancia == h_instancia)
                    )
                ]
            with self._lock:
                self._cache[h_instancia] = rows
        return [row for row in rows if cell_id is None or row.id == cell_id]

    def _build(self, row: RegisteredCell) -> Cell:
        meta = KnowledgeCell.model_validate(row.meta)
        if meta.microservice_url:
            return RemoteCell(meta, row.module, frozenset(row.accepts), row.token, self.policy)
        base = self.local.get(row.base or row.id)
        return Specialized(base, meta, dict(row.defaults))

    def versions(self, h_instancia: str, cell_id: str, fresh: bool = False) -> list[Cell]:
        found: list[Cell] = []
        with suppress(NotFound):
            found.append(self.local.get(cell_id))
        found.extend(self._build(row) for row in self._registered(h_instancia, cell_id, fresh))
        if not found and not fresh:
            return self.versions(h_instancia, cell_id, fresh=True)
        if not found:
            known = sorted({c.meta.id for c in self.cells(h_instancia)})
            raise NotFound(f"no cell {cell_id!r}; known: {', '.join(known)}")
        return sorted(found, key=lambda c: semver_key(c.meta.version))

    def get(self, h_instancia: str, cell_id: str, version: str | None = None) -> Cell:
        """The newest version of a cell the instance can run, or the one asked for."""
        if version is not None:
            with suppress(NotFound):
                local = self.local.get(cell_id)
                if local.meta.version == version:
                    return local  # no query for the common case
        versions = self.versions(h_instancia, cell_id)
        if version is None:
            return versions[-1]
        for attempt in (versions, self.versions(h_instancia, cell_id, fresh=True)):
            for cell in attempt:
                if cell.meta.version == version:
                    return cell
        known = ", ".join(c.meta.version for c in versions)
        raise NotFound(f"cell {cell_id!r} has no version {version}; versions: {known}")

    def cells(self, h_instancia: str) -> list[Cell]:
        """The newest version of every cell the instance can run."""
        newest: dict[str, Cell] = {cell.meta.id: cell for cell in self.local.cells()}
        for row in self._registered(h_instancia):
            cell = self._build(row)
            held = newest.get(cell.meta.id)
            if held is None or semver_key(cell.meta.version) > semver_key(held.meta.version):
                newest[cell.meta.id] = cell
        return [newest[key] for key in sorted(newest)]

    def register(
        self,
        h_instancia: str,
        meta: KnowledgeCell,
        module: str,
        accepts: list[str],
        *,
        base: str | None = None,
        defaults: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> Cell:
        if not meta.microservice_url and base is None:
            raise InvalidInput(
                "a cell registered over HTTP runs elsewhere: give its microserviceUrl "
                "(install a package with a tzzr.cells entry point to add local code)",
                field="microserviceUrl",
            )
        if meta.microservice_url:  # https to a public address, or a host the operator lists
            meta = meta.model_copy(
                update={"microservice_url": check_url(meta.microservice_url, self.policy)}
            )
        if not accepts:
            raise InvalidInput("name the payload types the cell takes", field="accepts")
        try:
            self.local.get(meta.id)
            if base is None:
                raise Conflict(f"{meta.id!r} is an installed cell; choose another id")
        except NotFound:
            pass
        versions = self._versions_or_none(h_instancia, meta.id)
        if any(c.meta.version == meta.version for c in versions):
            raise Conflict(f"cell {meta.id!r} already has version {meta.version}; bump it")
        now = datetime.now(UTC)
        try:
            self._insert(h_instancia, meta, module, accepts, base, defaults, token, now)
            with self._lock:
                self._cache.pop(h_instancia, None)
        except IntegrityError as exc:
            raise Conflict(f"cell {meta.id!r} already has version {meta.version}; bump it") from exc
        return self.get(h_instancia, meta.id, meta.version)

    def _insert(
        self,
        h_instancia: str,
        meta: KnowledgeCell,
        module: str,
        accepts: list[str],
        base: str | None,
        defaults: dict[str, Any] | None,
        token: str | None,
        now: datetime,
    ) -> None:
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(RegisteredCell).values(
                    h_instancia=h_instancia,
                    id=meta.id,
                    version=meta.version,
                    base=base,
                    meta=meta.as_json(),
                    module=module,
                    accepts=sorted(set(accepts)),
                    defaults=dict(defaults or {}),
                    token=token,
                    created_at=now,
                )
            )

    def _versions_or_none(self, h_instancia: str, cell_id: str) -> list[Cell]:
        try:
            return self.versions(h_instancia, cell_id)
        except NotFound:
            return []
