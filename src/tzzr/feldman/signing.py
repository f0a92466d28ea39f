"""Each instance's Ed25519 signing key: created on first use, private half in a 0600
file under TZZR_HOME/keys, public halves in the database (kept after rotation so old
checkpoints still verify)."""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models import LedgerKey, utcnow
from tzzr.errors import TzzrError
from tzzr.instances import InstanceInfo
from tzzr.ledger.checkpoint import key_id, public_bytes, verifier_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# (key name, private key, key id): what a seal signs its checkpoint with.
Signer = tuple[str, "Ed25519PrivateKey", str]


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    name: str
    verifier_key: str
    created_at: datetime
    retired_at: datetime | None


def origin(instance: InstanceInfo) -> str:
    """The log's name in checkpoints and the signing key's name."""
    return f"tzzr/{instance.name}/{instance.h_instancia[:16]}"


class SigningKeys:
    def __init__(self, engine: Engine, key_dir: Path) -> None:
        self._engine = engine
        self._dir = key_dir

    def _path(self, instance: InstanceInfo, kid: str) -> Path:
        return self._dir / instance.name / f"{kid}.pem"

    def current(self, instance: InstanceInfo) -> Signer:
        """(name, private key, key id) of the instance's active key, made if missing."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        with self._engine.connect() as conn:
            row = conn.execute(
                select(LedgerKey.key_id, LedgerKey.name).where(
                    LedgerKey.h_instancia == instance.h_instancia, LedgerKey.retired_at.is_(None)
                )
            ).first()
        if row is None:
            return self._create(instance)
        path = self._path(instance, row.key_id)
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise TzzrError(
                f"the signing key file {path} is missing; restore it from backup, or run "
                f"`tzzr ledger rotate-key --instance {instance.name}` to start a new key"
            ) from exc
        assert isinstance(private, Ed25519PrivateKey)
        return row.name, private, row.key_id

    def _create(self, instance: InstanceInfo) -> Signer:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        name = origin(instance)
        private = Ed25519PrivateKey.generate()
        public = public_bytes(private)
        kid = key_id(name, public).hex()
        path = self._path(instance, kid)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(LedgerKey)
                .where(
                    LedgerKey.h_instancia == instance.h_instancia, LedgerKey.retired_at.is_(None)
                )
                .values(retired_at=utcnow())
            )
            conn.execute(
                insert(LedgerKey).values(
                    h_instancia=instance.h_instancia,
                    key_id=kid,
                    name=name,
                    public_key=public,
                    created_at=utcnow(),
                )
            )
        return name, private, kid

    def rotate(self, instance: InstanceInfo) -> str:
        """Retire the active key (its public half stays) and start a new one."""
        return self._create(instance)[2]

    def public_keys(self, instance: InstanceInfo) -> list[PublicKey]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(LedgerKey)
                .where(LedgerKey.h_instancia == instance.h_instancia)
                .order_by(LedgerKey.created_at)
            ).all()
        return [
            PublicKey(
                r.key_id, r.name, verifier_key(r.name, r.public_key), r.created_at, r.retired_at
            )
            for r in rows
        ]
