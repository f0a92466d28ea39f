"""Tables of tzzr.devices (imported by tzzr.db.models, so they are part of its metadata).

A device is a browser (or any client) whose public key an instance registered; its id
is the key's id (SHA-256 of the SPKI DER, `tzzr.ledger.device.key_id`), so a capture's
leaf names the key itself. A revoked device signs no new captures; it is never deleted,
so the signatures it made stay verifiable. An entry's signature is written in the
entry's own transaction and sealed into its leaf.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tzzr.db.models import Base, BigId, UTCDateTime


class Device(Base):
    __tablename__ = "devices"

    h_instancia: Mapped[str] = mapped_column(
        String(64), ForeignKey("instances.h_instancia"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    alg: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)  # base64 of the SPKI DER
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EntrySignature(Base):
    __tablename__ = "entry_signatures"
    __table_args__ = (
        ForeignKeyConstraint(["h_instancia", "device_id"], ["devices.h_instancia", "devices.id"]),
    )

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # base64url, 64 bytes for both algs
