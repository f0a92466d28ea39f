"""VISION BUILDER: visions, milestones, actions, habits, key results and their links.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import BigId, JSONDoc, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None
# as in tzzr.db.models_vision: SQLite may not reuse an id after a delete
NO_REUSE = {"sqlite_autoincrement": True}


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _instance() -> sa.Column[str]:
    return sa.Column(
        "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
    )


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    ]


def _source() -> sa.Column[object]:
    return sa.Column("source", JSONDoc, nullable=True)


def _link(name: str, left: tuple[str, str], right: tuple[str, str], index: str) -> None:
    (left_col, left_table), (right_col, right_table) = left, right
    op.create_table(
        name,
        sa.Column(
            left_col,
            BigId,
            sa.ForeignKey(f"{left_table}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            right_col,
            BigId,
            sa.ForeignKey(f"{right_table}.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _instance(),
    )
    op.create_index(index, name, [right_col])


def _checkins(name: str, parent: str, parent_table: str, *extra: sa.Constraint) -> None:
    op.create_table(
        name,
        _id(),
        _instance(),
        sa.Column(
            parent, BigId, sa.ForeignKey(f"{parent_table}.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("evidence", JSONDoc, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        *extra,
        **NO_REUSE,
    )


def upgrade() -> None:
    op.create_table(
        "visions",
        _id(),
        _instance(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _source(),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
        *_times(),
        **NO_REUSE,
    )
    op.create_index("ix_visions_instance", "visions", ["h_instancia", "id"])
    op.create_table(
        "milestones",
        _id(),
        _instance(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("target_date", sa.Date, nullable=True),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("achieved_at", UTCDateTime, nullable=True),
        sa.Column("achieved_leaf", sa.BigInteger, nullable=True),
        _source(),
        *_times(),
        **NO_REUSE,
    )
    op.create_index("ix_milestones_instance", "milestones", ["h_instancia", "id"])
    op.create_table(
        "actions",
        _id(),
        _instance(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("due", sa.Date, nullable=True),
        sa.Column("done_at", UTCDateTime, nullable=True),
        sa.Column("done_leaf", sa.BigInteger, nullable=True),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("evidence", JSONDoc, nullable=False),
        _source(),
        *_times(),
        **NO_REUSE,
    )
    op.create_index("ix_actions_instance", "actions", ["h_instancia", "id"])
    op.create_table(
        "habits",
        _id(),
        _instance(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Float, nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("times", sa.Integer, nullable=False),
        sa.Column("interval_days", sa.Integer, nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        _source(),
        *_times(),
        **NO_REUSE,
    )
    op.create_index("ix_habits_instance", "habits", ["h_instancia", "id"])
    _checkins(
        "habit_checkins",
        "habit_id",
        "habits",
        sa.UniqueConstraint("habit_id", "day", name="uq_habit_checkins_day"),
    )
    op.create_table(
        "key_results",
        _id(),
        _instance(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("start_value", sa.Float, nullable=False),
        sa.Column("target_value", sa.Float, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        _source(),
        *_times(),
        **NO_REUSE,
    )
    op.create_index("ix_key_results_instance", "key_results", ["h_instancia", "id"])
    _checkins("key_result_checkins", "key_result_id", "key_results")
    op.create_index("ix_key_result_checkins_kr", "key_result_checkins", ["key_result_id", "day"])
    _link(
        "vision_milestones",
        ("vision_id", "visions"),
        ("milestone_id", "milestones"),
        "ix_vision_milestones_milestone",
    )
    _link(
        "milestone_actions",
        ("milestone_id", "milestones"),
        ("action_id", "actions"),
        "ix_milestone_actions_action",
    )
    _link(
        "milestone_habits",
        ("milestone_id", "milestones"),
        ("habit_id", "habits"),
        "ix_milestone_habits_habit",
    )
    _link(
        "milestone_key_results",
        ("milestone_id", "milestones"),
        ("key_result_id", "key_results"),
        "ix_milestone_key_results_kr",
    )


def downgrade() -> None:
    for name in (
        "milestone_key_results",
        "milestone_habits",
        "milestone_actions",
        "vision_milestones",
        "key_result_checkins",
        "key_results",
        "habit_checkins",
        "habits",
        "actions",
        "milestones",
        "visions",
    ):
        op.drop_table(name)
