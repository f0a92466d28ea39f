"""The devices an instance registered, and the check of a capture's device signature
(`tzzr.ledger.device` holds the pure crypto, the same code `tzzr verify` runs)."""

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tzzr import jsonlimits
from tzzr.db.engine import write_transaction
from tzzr.db.models import utcnow
from tzzr.db.models_devices import Device, EntrySignature
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.instances import InstanceInfo
from tzzr.ledger import device as crypto
from tzzr.times import rfc3339

DEVICE_ID = re.compile(r"[0-9a-f]{64}")
MAX_CLAIM_BYTES = 1024
# An ingest key registers devices; a bound keeps a leaked one from filling the table.
MAX_ACTIVE_DEVICES = 1000


class Registration(BaseModel):
    """`POST /devices`: the browser's name and its public key (base64 of the SPKI DER,
    as WebCrypto's `exportKey("spki")` gives it, or a JWK)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    alg: str = Field(description="Ed25519 or ES256 (ECDSA P-256 with SHA-256)")
    public_key: str | dict[str, Any]


class Claim(BaseModel):
    """The `device` of a capture: which registered device signed its address, and the
    signature (base64url) over `tzzr.ledger.device.message(h_instancia, h_entrada)`."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=64)
    signature: str = Field(max_length=128)


@dataclass(frozen=True)
class DeviceInfo:
    h_instancia: str
    id: str
    name: str
    alg: str
    public_key: str
    created_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key_id": self.id,
            "h_instancia": self.h_instancia,
            "name": self.name,
            "alg": self.alg,
            "public_key": self.public_key,
            "created_at": rfc3339(self.created_at),
            "revoked_at": rfc3339(self.revoked_at) if self.revoked_at else None,
        }


def _info(row: Any) -> DeviceInfo:
    return DeviceInfo(
        row.h_instancia, row.id, row.name, row.alg, row.public_key, row.created_at, row.revoked_at
    )


def parse_claim(raw: bytes | str | dict[str, Any] | Claim) -> Claim:
    """A capture's `device` (JSON text from a form field, or parsed); 422 naming the
    part to fix."""
    if isinstance(raw, Claim):
        return raw
    if isinstance(raw, bytes | str):
        if len(raw) > MAX_CLAIM_BYTES:
            raise InvalidInput(f"device is limited to {MAX_CLAIM_BYTES} bytes", field="device")
        raw = jsonlimits.loads(raw, "device")
    if not isinstance(raw, dict):
        raise InvalidInput('device must be a JSON object {"id", "signature"}', field="device")
    try:
        return Claim.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(
            f"device{'.' + where if where else ''}: {first['msg']}",
            field=f"device.{where}" if where else "device",
        ) from exc


class Devices:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def register(
        self, instance: InstanceInfo, registration: Registration
    ) -> tuple[DeviceInfo, bool]:
        """The device of this key (made now: True; registered before: False). The same
        key again is the same device (a browser may register twice: a lost answer); a
        revoked key stays revoked (409: make a new key)."""
        try:
            spki = crypto.public_key_der(registration.alg, registration.public_key)
        except crypto.DeviceKeyError as exc:
            field = "alg" if registration.alg not in crypto.ALGORITHMS else "public_key"
            raise InvalidInput(str(exc), field=field) from exc
        device_id = crypto.key_id(spki)
        h = instance.h_instancia
        with write_transaction(self._engine) as conn:
            row = self._row(conn, h, device_id)
            if row is None:
                self._check_room(conn, h)
                try:
                    # a savepoint: two tabs registering the same key at once on
                    # PostgreSQL, the second insert fails; its transaction goes on
                    with conn.begin_nested():
                        conn.execute(
                            insert(Device).values(
                                h_instancia=h,
                                id=device_id,
                                name=registration.name,
                                alg=registration.alg,
                                public_key=base64.b64encode(spki).decode(),
                                created_at=utcnow(),
                            )
                        )
                except IntegrityError:
                    row = self._row(conn, h, device_id)
                    if row is None:  # not the key: another constraint
                        raise
                else:
                    return _info(self._row(conn, h, device_id)), True
        if row.revoked_at is not None:
            raise Conflict(
                f"device {device_id} was revoked; make a new key pair and register it",
                field="public_key",
            )
        return _info(row), False

    @staticmethod
    def _check_room(conn: Connection, h_instancia: str) -> None:
        active = conn.execute(
            select(func.count()).where(
                Device.h_instancia == h_instancia, Device.revoked_at.is_(None)
            )
        ).scalar_one()
        if active >= MAX_ACTIVE_DEVICES:
            raise Conflict(
                f"this instance has {MAX_ACTIVE_DEVICES} active devices, the most it may have; "
                "revoke those no longer used (DELETE /devices/{device_id})"
            )

    @staticmethod
    def _row(conn: Connection, h_instancia: str, device_id: str) -> Any:
        return conn.execute(
            select(Device).where(Device.h_instancia == h_instancia, Device.id == device_id)
        ).first()

    def list(self, instance: InstanceInfo) -> list[DeviceInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Device)
                .where(Device.h_instancia == instance.h_instancia)
                .order_by(Device.created_at, Device.id)
            ).all()
        return [_info(row) for row in rows]

    def get(self, instance: InstanceInfo, device_id: str) -> DeviceInfo:
        row = None
        if DEVICE_ID.fullmatch(device_id):
            with self._engine.connect() as conn:
                row = self._row(conn, instance.h_instancia, device_id)
        if row is None:
            raise NotFound(f"no device {device_id!r} in this instance (GET /devices lists them)")
        return _info(row)

    def revoke(self, instance: InstanceInfo, device_id: str) -> DeviceInfo:
        """Revoked: it signs no new capture; what it signed stays verifiable."""
        found = self.get(instance, device_id)
        if found.revoked_at is not None:
            return found
        with write_transaction(self._engine) as conn:
            conn.execute(
                update(Device)
                .where(
                    Device.h_instancia == instance.h_instancia,
                    Device.id == device_id,
                    Device.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow())
            )
            return _info(self._row(conn, instance.h_instancia, device_id))

    def check(self, instance: InstanceInfo, claim: Claim, h_entrada: str) -> Claim:
        """The claim, once its device is registered here, not revoked, and its
        signature verifies over the capture's address; 422 naming device.id or
        device.signature otherwise."""
        row = None
        if DEVICE_ID.fullmatch(claim.id):
            with self._engine.connect() as conn:
                row = self._row(conn, instance.h_instancia, claim.id)
        if row is None:
            raise InvalidInput(
                f"device {claim.id!r} is not registered in this instance (POST /devices)",
                field="device.id",
            )
        if row.revoked_at is not None:
            raise InvalidInput(
                f"device {claim.id} was revoked on {rfc3339(row.revoked_at)}: it signs no new "
                "captures; register a new key",
                field="device.id",
            )
        signed = crypto.message(instance.h_instancia, h_entrada)
        try:
            crypto.verify_signature(
                row.alg, base64.b64decode(row.public_key), signed, claim.signature
            )
        except crypto.SignatureError as exc:
            raise InvalidInput(
                f"{exc}: the device must sign {crypto.DOMAIN!r}, the instance and this "
                f"capture's address {h_entrada}, one a line",
                field="device.signature",
            ) from exc
        return claim

    @staticmethod
    def bind(conn: Connection, instance: InstanceInfo, entry_id: int, claim: Claim) -> None:
        """Store a checked signature with its entry, in the entry's transaction; 422 if
        the device was revoked since the check (the transaction then writes nothing)."""
        still = conn.execute(
            select(Device.id).where(
                Device.h_instancia == instance.h_instancia,
                Device.id == claim.id,
                Device.revoked_at.is_(None),
            )
        ).first()
        if still is None:
            raise InvalidInput(f"device {claim.id} was revoked just now", field="device.id")
        conn.execute(
            insert(EntrySignature).values(
                entry_id=entry_id,
                h_instancia=instance.h_instancia,
                device_id=claim.id,
                signature=claim.signature,
            )
        )
