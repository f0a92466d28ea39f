"""API keys: shown once, stored as SHA-256, checked in constant time, one instance each
(ingest, read, admin), or none for an operator key (the server's own tasks; made only
from the CLI).

A key reads `tzzr_<key_id>_<secret>`; `key_id` is public (it names the key in listings
and revocations), the secret is 256 random bits, so a plain SHA-256 of the whole key
is a safe stored form (no password stretching needed for random secrets).
"""

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache
from sqlalchemy import Engine, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models import ApiKey, Instance, utcnow
from tzzr.errors import Forbidden, NotFound, Unauthorized
from tzzr.instances import InstanceInfo, Instances
from tzzr.types import ROLES, Role
from tzzr.validation import one_of

PERMISSIONS: dict[str, frozenset[str]] = {
    # "key": what any key of an instance may do (say which instance it is)
    "ingest": frozenset({"key", "ingest"}),
    "read": frozenset({"key", "read"}),
    "admin": frozenset({"key", "ingest", "read", "admin"}),
}
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()
OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    instance: InstanceInfo

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            if permission == "operator":
                raise Forbidden(
                    "this is the server's own task: it needs an operator key "
                    "(`tzzr keys create --operator`, on the server)"
                )
            raise Forbidden(
                f"this key's role {self.role!r} does not allow {permission!r}; "
                f"create a key with `tzzr keys create --instance {self.instance.name} "
                f"--role {'admin' if permission == 'admin' else permission}`"
            )


@dataclass(frozen=True)
class Operator:
    """An operator key: what is truly server-wide. It reads no instance's data."""

    key_id: str
    role: str = "operator"

    def require(self, permission: str) -> None:
        if permission != "operator":
            raise Forbidden(
                "an operator key manages the server and reads no instance's data; "
                "use a key of the instance (`tzzr keys create --instance NAME --role ROLE`)"
            )


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    instance: str | None
    role: str
    created_at: datetime
    revoked_at: datetime | None


KEY_CACHE_SIZE = 10_000  # verified keys held at once


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Keys:
    def __init__(self, engine: Engine, instances: Instances, cache_seconds: float = 0) -> None:
        self._engine = engine
        self._instances = instances
        # Verified keys, by the SHA-256 of the key: a hit skips the database and a
        # thread hop. Failures are never cached; a revocation in this process clears
        # it, one from another process takes effect within `cache_seconds` (0: none).
        # Read on the event loop and written from the thread pool: under the lock.
        self._cache: TTLCache[str, Principal | Operator] | None = (
            TTLCache(maxsize=KEY_CACHE_SIZE, ttl=cache_seconds) if cache_seconds > 0 else None
        )
        self._lock = threading.Lock()

    def create(self, instance_name: str, role: Role = "ingest") -> tuple[str, str]:
        """Returns (key, key_id); the key itself is never stored."""
        one_of(role, ROLES, "role")
        instance = self._instances.get(instance_name)
        return self._insert(instance.id, role)

    def create_operator(self) -> tuple[str, str]:
        """An operator key (belongs to no instance). Only the CLI makes one: no HTTP
        route can, so no instance admin can raise itself to operator."""
        return self._insert(None, OPERATOR)

    def _insert(self, instance_id: int | None, role: str) -> tuple[str, str]:
        key_id = secrets.token_hex(6)
        key = f"tzzr_{key_id}_{secrets.token_urlsafe(32)}"
        with write_transaction(self._engine) as conn:
            conn.execute(
                insert(ApiKey).values(
                    key_id=key_id,
                    key_hash=_hash(key),
                    instance_id=instance_id,
                    role=role,
                    created_at=utcnow(),
                )
            )
        return key, key_id

    def list(self, instance_name: str | None = None) -> list[KeyInfo]:
        query = (
            select(ApiKey.key_id, Instance.name, ApiKey.role, ApiKey.created_at, ApiKey.revoked_at)
            .outerjoin(Instance, Instance.id == ApiKey.instance_id)
            .order_by(ApiKey.id)
        )
        if instance_name is not None:
            query = query.where(Instance.name == instance_name)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [KeyInfo(*row) for row in rows]

    def revoke(self, key_id: str) -> None:
        with write_transaction(self._engine) as conn:
            done = conn.execute(
                update(ApiKey)
                .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            ).rowcount
        if self._cache is not None:
            with self._lock:
                self._cache.clear()
        if not done:
            raise NotFound(f"no active key with id {key_id!r}; see `tzzr keys list`")

    def cached(self, authorization: str | None) -> Principal | Operator | None:
        """The principal for a recently verified key, without touching the database."""
        if not authorization or self._cache is None:
            return None
        digest = _hash(authorization.partition(" ")[2].strip())
        with self._lock:
            return self._cache.get(digest)

    def authenticate(self, authorization: str | None) -> Principal | Operator:
        if not authorization:
            raise Unauthorized("missing API key: send the header 'Authorization: Bearer <key>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("malformed Authorization header: use 'Bearer <key>'")
        parts = token.split("_")
        key_id = parts[1] if len(parts) >= 3 and parts[0] == "tzzr" else ""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(ApiKey.key_hash, ApiKey.role, ApiKey.revoked_at, Instance)
                .outerjoin(Instance, Instance.id == ApiKey.instance_id)
                .where(ApiKey.key_id == key_id)
            ).first()
        stored = row.key_hash if row is not None else _DUMMY_HASH
        matches = hmac.compare_digest(stored, _hash(token))
        # Failures are counted and recorded by tzzr.ratelimit, coalesced per address.
        if row is None or not matches:
            raise Unauthorized("invalid API key")
        if row.revoked_at is not None:
            raise Unauthorized("this API key was revoked; ask an admin for a new one")
        principal: Principal | Operator = (
            Operator(key_id)
            if row.role == OPERATOR
            else Principal(key_id, row.role, InstanceInfo.from_row(row))
        )
        if self._cache is not None:
            with self._lock:
                self._cache[row.key_hash] = principal
        return principal
