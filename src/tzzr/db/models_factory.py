"""Tables of tzzr.factory (imported by tzzr.db.models, so they are part of its metadata).

THE FACTORY's refinements are jobs (the `jobs` table: kind `refine` or `specialize`,
their request, status, lease). Each round of one is a row of `factory_rounds`: the draft
it produced (items with stable ids), the critique it answered, the diff against the
round before, and what made it (the model or the deterministic planner, the prompt's and
the output's hashes, the parameters) with the `attestation` ledger leaf that seals them.
A person's accept or reject of one item is a row of `factory_decisions`, naming the
milestone or action an accepted item became.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tzzr.db.models import Base, JSONDoc, UTCDateTime


class FactoryRound(Base):
    __tablename__ = "factory_rounds"

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ...
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    draft: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    critique: Mapped[list[Any]] = mapped_column(JSONDoc)
    diff: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    model: Mapped[str] = mapped_column(String(200))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    output_hash: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    leaf_index: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FactoryDecision(Base):
    __tablename__ = "factory_decisions"

    job_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    h_instancia: Mapped[str] = mapped_column(String(64), ForeignKey("instances.h_instancia"))
    decision: Mapped[str] = mapped_column(String(16))  # accepted | rejected
    round: Mapped[int] = mapped_column(Integer)  # the round whose item was decided
    object_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    object_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
