"""THE FACTORY: refinement jobs, their rounds (versioned drafts) and item decisions.

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in with its tables (tzzr.db.models_factory)


def downgrade() -> None:
    pass
