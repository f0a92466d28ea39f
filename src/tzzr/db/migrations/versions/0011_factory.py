"""THE FACTORY: refinement jobs, their rounds (versioned drafts) and item decisions.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import JSONDoc, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _keys() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
    ]


def _instance() -> sa.Column[str]:
    return sa.Column(
        "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "factory_rounds",
        *_keys(),
        sa.Column("number", sa.Integer, primary_key=True),
        _instance(),
        sa.Column("draft", JSONDoc, nullable=False),
        sa.Column("critique", JSONDoc, nullable=False),
        sa.Column("diff", JSONDoc, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("output_hash", sa.String(64), nullable=False),
        sa.Column("parameters", JSONDoc, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "factory_decisions",
        *_keys(),
        sa.Column("item_id", sa.String(32), primary_key=True),
        _instance(),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("object_kind", sa.String(16), nullable=True),
        sa.Column("object_id", sa.BigInteger, nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("factory_decisions")
    op.drop_table("factory_rounds")
