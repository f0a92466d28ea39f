"""Tables of tzzr.uploads (imported by tzzr.db.models, so they are part of its metadata).

One row per tus upload: its declared length, the offset that is durable (the bytes up to
it are fsynced or stored as S3 parts), the SHA-256 state after exactly those bytes (so a
resumed upload never re-reads what was stored), and where the bytes are (`storage`: the
S3 multipart upload and its parts; NULL for a local file under the data directory).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tzzr.db.models import Base, JSONDoc, UTCDateTime


class Upload(Base):
    """`state`: open (bytes arriving), complete (published as the blob `sha256`), failed
    (the bytes did not hash to the declared digest; nothing published), terminated
    (DELETE asked; `tzzr gc` finishes what a crash left)."""

    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_instance_sha", "h_instancia", "sha256"),
        Index("ix_uploads_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    declared_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash_state: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    storage: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
