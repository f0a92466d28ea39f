"""Tables of tzzr.vision (imported by tzzr.db.models, so they are part of its metadata).

VISION BUILDER: visions, milestones, actions, habits (with daily check-ins) and key
results (with dated check-ins), all of one instance. Links are many-to-many: a milestone
may serve several visions, an action count toward several milestones; habits and key
results attach to milestones. Progress is computed from these rows when read, never
stored. `leaf_index` columns name the `vision` ledger leaf that seals a creation, an
achievement or a check-in; `evidence` is a list of the instance's `h_entrada`; `source`
says where a proposed row came from (THE FACTORY's round and item), NULL when a person
typed it.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tzzr.db.models import Base, BigId, JSONDoc, UTCDateTime

# SQLite reuses the highest rowid after a delete unless the table is AUTOINCREMENT: a
# ref such as vision/7 or habit/3/day/… would then name two objects over time.
_NO_REUSE = {"sqlite_autoincrement": True}


def _instance() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("instances.h_instancia"))


class Vision(Base):
    __tablename__ = "visions"
    __table_args__ = (Index("ix_visions_instance", "h_instancia", "id"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Milestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_instance", "h_instancia", "id"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    target_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    weight: Mapped[float] = mapped_column(Float)
    achieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    achieved_leaf: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Action(Base):
    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_instance", "h_instancia", "id"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_leaf: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    weight: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[str]] = mapped_column(JSONDoc)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Habit(Base):
    """`times` per `interval_days` days (Loop's frequency numerator and denominator):
    1/1 daily, 3/7 three times a week. A numeric habit's `target` is what the days of one
    interval add up to (at least), in `unit`; its `times` is 1. Days are counted in `tz`."""

    __tablename__ = "habits"
    __table_args__ = (Index("ix_habits_instance", "h_instancia", "id"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    times: Mapped[int] = mapped_column(Integer)
    interval_days: Mapped[int] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean)
    weight: Mapped[float] = mapped_column(Float)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HabitCheckin(Base):
    """One per habit and day (the day in the habit's time zone); `value` is 1 for a
    yes/no habit, the amount for a numeric one."""

    __tablename__ = "habit_checkins"
    __table_args__ = (
        UniqueConstraint("habit_id", "day", name="uq_habit_checkins_day"),
        _NO_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    habit_id: Mapped[int] = mapped_column(BigId, ForeignKey("habits.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSONDoc)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyResult(Base):
    """A measurable result: progress is how far the newest check-in's value went from
    `start_value` toward `target_value` (either direction), clamped to [0, 1]."""

    __tablename__ = "key_results"
    __table_args__ = (Index("ix_key_results_instance", "h_instancia", "id"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    title: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    start_value: Mapped[float] = mapped_column(Float)
    target_value: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KeyResultCheckin(Base):
    __tablename__ = "key_result_checkins"
    __table_args__ = (Index("ix_key_result_checkins_kr", "key_result_id", "day"), _NO_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    h_instancia: Mapped[str] = _instance()
    key_result_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("key_results.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[str]] = mapped_column(JSONDoc)
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VisionMilestone(Base):
    __tablename__ = "vision_milestones"
    __table_args__ = (Index("ix_vision_milestones_milestone", "milestone_id"),)

    vision_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("visions.id", ondelete="CASCADE"), primary_key=True
    )
    milestone_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = _instance()


class MilestoneAction(Base):
    __tablename__ = "milestone_actions"
    __table_args__ = (Index("ix_milestone_actions_action", "action_id"),)

    milestone_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    action_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = _instance()


class MilestoneHabit(Base):
    __tablename__ = "milestone_habits"
    __table_args__ = (Index("ix_milestone_habits_habit", "habit_id"),)

    milestone_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    habit_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("habits.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = _instance()


class MilestoneKeyResult(Base):
    __tablename__ = "milestone_key_results"
    __table_args__ = (Index("ix_milestone_key_results_kr", "key_result_id"),)

    milestone_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    key_result_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("key_results.id", ondelete="CASCADE"), primary_key=True
    )
    h_instancia: Mapped[str] = _instance()
