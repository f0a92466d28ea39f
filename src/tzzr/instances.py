"""Instances (DECK, CORP, …): each has a secret seed, `h_instancia = sha256(seed)`, its
own blob prefix and an optional JSON Schema of extra required metadata fields."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.engine import write_transaction
from tzzr.db.models import Instance, LedgerHead, utcnow
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.validation import schema_error

if TYPE_CHECKING:  # jsonschema loads only for instances that have a fields schema
    from jsonschema import Draft202012Validator

    from tzzr.blobs import BlobStore

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class InstanceInfo:
    id: int
    name: str
    h_instancia: str
    blob_prefix: str
    fields_schema: dict[str, Any] | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> "InstanceInfo":
        return cls(
            row.id, row.name, row.h_instancia, row.blob_prefix, row.fields_schema, row.created_at
        )

    def check_metadata(self, metadata: dict[str, Any]) -> None:
        """422 naming the first field that the instance's schema rejects."""
        if self.fields_schema is None:
            return
        found = schema_error(_validator(canonical_json(self.fields_schema)), metadata, "metadata")
        if found is not None:
            message, field = found
            raise InvalidInput(
                f"metadata does not satisfy instance {self.name!r}'s fields schema: {message}",
                field=field,
            )


@lru_cache(maxsize=64)
def _validator(schema_json: bytes) -> "Draft202012Validator":
    import json

    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(schema_json))


def check_schema(schema: Any) -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict):
        raise InvalidInput("a fields schema must be a JSON object (a JSON Schema)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidInput(f"not a valid JSON Schema (2020-12): {exc.message}") from exc
    return schema


class Instances:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, name: str, fields_schema: dict[str, Any] | None = None) -> InstanceInfo:
        if not NAME.fullmatch(name):
            raise InvalidInput(
                f"instance name {name!r} must be lowercase letters, digits, '-' or '_', "
                "starting with a letter, at most 63 characters",
                field="name",
            )
        if fields_schema is not None:
            check_schema(fields_schema)
        seed = secrets.token_hex(32)
        values = {
            "name": name,
            "seed": seed,
            "h_instancia": sha256_hex(seed.encode()),
            "blob_prefix": name,
            "fields_schema": fields_schema,
            "created_at": utcnow(),
        }
        try:
            with write_transaction(self._engine) as conn:
                conn.execute(insert(Instance).values(**values))
                conn.execute(
                    insert(LedgerHead).values(h_instancia=values["h_instancia"], next_index=0)
                )
        except IntegrityError as exc:
            raise Conflict(f"instance {name!r} already exists", field="name") from exc
        return self.get(name)

    def list(self) -> list[InstanceInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(Instance).order_by(Instance.id)).all()
        return [InstanceInfo.from_row(r) for r in rows]

    def get(self, name: str) -> InstanceInfo:
        with self._engine.connect() as conn:
            row = conn.execute(select(Instance).where(Instance.name == name)).first()
        if row is None:
            known = ", ".join(i.name for i in self.list()) or "none yet"
            raise NotFound(
                f"no instance named {name!r} (known: {known}); create it with "
                f"`tzzr instances add {name}`"
            )
        return InstanceInfo.from_row(row)


class InstanceStores:
    """Each instance's view of the blob store, by h_instancia (prefixes cached: an
    instance's prefix never changes)."""

    def __init__(self, engine: Engine, blobs: "BlobStore") -> None:
        self._engine = engine
        self._blobs = blobs
        self._prefixes: dict[str, str] = {}

    def __call__(self, h_instancia: str) -> "BlobStore":
        prefix = self._prefixes.get(h_instancia)
        if prefix is None:
            with self._engine.connect() as conn:
                prefix = conn.execute(
                    select(Instance.blob_prefix).where(Instance.h_instancia == h_instancia)
                ).scalar_one()
            self._prefixes[h_instancia] = prefix
        return self._blobs.scoped(prefix)
