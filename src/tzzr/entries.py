"""Reading entries: filters, cursor pagination, and the files an instance may serve."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, or_, select

from tzzr.db.models import Entry, EntryFile, Run, RunArtifact
from tzzr.db.rows import instance_row
from tzzr.errors import InvalidInput, NotFound
from tzzr.instances import InstanceInfo
from tzzr.pagination import decode_cursor, encode_cursor, moment, row_id
from tzzr.times import in_utc, rfc3339
from tzzr.types import is_hex_digest

MAX_LIMIT = 500


def entry_json(row: Any) -> dict[str, Any]:
    return {
        "h_entrada": row.h_entrada,
        "h_instancia": row.h_instancia,
        "state": row.state,
        "created_at": rfc3339(row.created_at),
        "contenedor": row.contenedor,
        "r2_paths": row.r2_paths,
    }


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    media_type: str
    size: int | None


class EntryReader:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, instance: InstanceInfo, h_entrada: str) -> dict[str, Any]:
        if not is_hex_digest(h_entrada):
            raise InvalidInput("h_entrada must be 64 lowercase hex characters", field="h_entrada")
        missing = f"no entry {h_entrada} in this instance"
        with self._engine.connect() as conn:
            row = instance_row(conn, Entry, instance.h_instancia, missing, h_entrada=h_entrada)
        return entry_json(row)

    def list(
        self,
        instance: InstanceInfo,
        *,
        state: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        media_type: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        query = select(Entry).where(Entry.h_instancia == instance.h_instancia)
        if state is not None:
            query = query.where(Entry.state == state)
        if since is not None:
            query = query.where(Entry.created_at >= in_utc(since))
        if until is not None:
            query = query.where(Entry.created_at < in_utc(until))
        if media_type is not None:
            kind = media_type.lower()
            match = (
                EntryFile.media_type.startswith(kind[:-1])
                if kind.endswith("/*")
                else EntryFile.media_type == kind
            )
            query = query.where(exists().where(EntryFile.entry_id == Entry.id, match))
        if cursor is not None:
            stamp, entry_id = decode_cursor(cursor, moment, row_id)
            query = query.where(
                or_(
                    Entry.created_at < stamp,
                    and_(Entry.created_at == stamp, Entry.id < entry_id),
                )
            )
        query = query.order_by(Entry.created_at.desc(), Entry.id.desc()).limit(limit + 1)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
        return [entry_json(r) for r in rows], next_cursor

    def blob(self, instance: InstanceInfo, sha256: str) -> BlobRef:
        """A blob that an entry of this instance references; 404 for anything else."""
        if not is_hex_digest(sha256):
            raise InvalidInput("sha256 must be 64 lowercase hex characters", field="sha256")
        with self._engine.connect() as conn:
            row = conn.execute(
                select(EntryFile.media_type, EntryFile.size)
                .join(Entry, Entry.id == EntryFile.entry_id)
                .where(Entry.h_instancia == instance.h_instancia, EntryFile.sha256 == sha256)
                .limit(1)
            ).first()
            if row is None:
                return self._run_blob(conn, instance, sha256)
        return BlobRef(sha256, row.media_type, row.size)

    def _run_blob(self, conn: Connection, instance: InstanceInfo, sha256: str) -> BlobRef:
        """A cell run's result (JSON) or input."""
        mine = Run.h_instancia == instance.h_instancia
        if conn.execute(select(Run.id).where(mine, Run.result_sha == sha256).limit(1)).first():
            return BlobRef(sha256, "application/json", None)
        made = conn.execute(
            select(RunArtifact.media_type, RunArtifact.size)
            .where(RunArtifact.h_instancia == instance.h_instancia, RunArtifact.sha256 == sha256)
            .limit(1)
        ).first()
        if made is not None:
            return BlobRef(sha256, made.media_type, made.size)
        found = conn.execute(
            select(Run.media_type).where(mine, Run.input_sha == sha256).limit(1)
        ).first()
        if found is None:
            raise NotFound(f"no blob {sha256} in this instance")
        return BlobRef(sha256, found.media_type or "application/octet-stream", None)
