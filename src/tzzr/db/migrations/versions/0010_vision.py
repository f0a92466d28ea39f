"""VISION BUILDER: visions, milestones, actions, habits, key results and their links.

Revision ID: 0010
Revises: 0009
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in with its tables (tzzr.db.models_vision)


def downgrade() -> None:
    pass
