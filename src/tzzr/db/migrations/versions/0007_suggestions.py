"""MASON keeps the suggestion an enrichment was made from: `enrichment_versions.suggested`
(what the flow's cells read, by field, with the step that read it and its confidence),
so that what a person corrected in the pre-filled form is known.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import JSONDoc

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrichment_versions") as batch:
        batch.add_column(sa.Column("suggested", JSONDoc, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enrichment_versions") as batch:
        batch.drop_column("suggested")
