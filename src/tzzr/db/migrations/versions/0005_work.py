"""Durable work: jobs held under a lease (attempt, worker, lease_until, as runs and
executions are), and `work_leases`, the row a periodic job's scheduler claims so that
one server of a deployment runs it each period.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("worker", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lease_until", UTCDateTime, nullable=True))
    op.create_index("ix_jobs_status_lease", "jobs", ["status", "lease_until"])
    op.create_table(
        "work_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("lease_until", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("work_leases")
    op.drop_index("ix_jobs_status_lease", "jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("worker")
        batch.drop_column("attempt")
