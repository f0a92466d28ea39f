"""Tenancy: flows, registered cells, runs (their ids), run artifacts and alerts belong to
one instance; operator keys belong to none.

Flows and registered cells were server-wide: each instance gets its own copy of every one
(the behaviour each instance had before), for its admin to keep, change or delete.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import JSONDoc, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

RUN_COLUMNS = (
    "h_instancia, id, cell_id, cell_version, queue, status, input_sha, input_type, "
    "media_type, lang, params, params_hash, attempt, max_attempts, timeout_s, lease_until, "
    "worker, created_at, started_at, finished_at, result_sha, metrics, error, reused_from, "
    "leaf_index, traceparent"
)


def _instance_fk() -> sa.Column[str]:
    return sa.Column(
        "h_instancia",
        sa.String(64),
        sa.ForeignKey("instances.h_instancia"),
        primary_key=True,
    )


def upgrade() -> None:
    # Each instance gets its own copy of every flow and registered cell.
    op.create_table(
        "flows_new",
        _instance_fk(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("spec", JSONDoc, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.execute(
        "INSERT INTO flows_new (h_instancia, id, version, spec, deleted, created_at) "
        "SELECT i.h_instancia, f.id, f.version, f.spec, f.deleted, f.created_at "
        "FROM flows f CROSS JOIN instances i"
    )
    op.drop_table("flows")
    op.rename_table("flows_new", "flows")

    op.create_table(
        "cells_new",
        _instance_fk(),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("base", sa.String(100), nullable=True),
        sa.Column("meta", JSONDoc, nullable=False),
        sa.Column("module", sa.String(100), nullable=False),
        sa.Column("accepts", JSONDoc, nullable=False),
        sa.Column("defaults", JSONDoc, nullable=False),
        sa.Column("token", sa.String(512), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.execute(
        "INSERT INTO cells_new (h_instancia, id, version, base, meta, module, accepts, "
        "defaults, token, created_at) SELECT i.h_instancia, c.id, c.version, c.base, c.meta, "
        "c.module, c.accepts, c.defaults, c.token, c.created_at FROM cells c CROSS JOIN instances i"
    )
    op.drop_table("cells")
    op.rename_table("cells_new", "cells")

    # Runs are keyed by (instance, id): a run id taken elsewhere is not an oracle.
    op.create_table(
        "runs_new",
        _instance_fk(),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("cell_id", sa.String(100), nullable=False),
        sa.Column("cell_version", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_sha", sa.String(64), nullable=False),
        sa.Column("input_type", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=True),
        sa.Column("lang", sa.String(64), nullable=True),
        sa.Column("params", JSONDoc, nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("result_sha", sa.String(64), nullable=True),
        sa.Column("metrics", JSONDoc, nullable=True),
        sa.Column("error", JSONDoc, nullable=True),
        sa.Column("reused_from", sa.String(64), nullable=True),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
        sa.Column("traceparent", sa.String(64), nullable=True),
    )
    op.execute(f"INSERT INTO runs_new ({RUN_COLUMNS}) SELECT {RUN_COLUMNS} FROM runs")  # noqa: S608 (constant)
    op.create_table(
        "run_artifacts_new",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO run_artifacts_new (h_instancia, run_id, name, sha256, media_type, size) "
        "SELECT r.h_instancia, a.run_id, a.name, a.sha256, a.media_type, a.size "
        "FROM run_artifacts a JOIN runs r ON r.id = a.run_id"
    )
    op.drop_table("run_artifacts")
    op.drop_table("runs")
    op.rename_table("runs_new", "runs")
    op.create_index(
        "ix_runs_reuse",
        "runs",
        ["h_instancia", "cell_id", "cell_version", "input_sha", "params_hash"],
    )
    op.create_index("ix_runs_status_lease", "runs", ["status", "lease_until"])
    op.create_index("ix_runs_cell_created", "runs", ["cell_id", "created_at"])
    # The foreign key is made with the table on SQLite (which cannot add one later).
    op.create_table(
        "run_artifacts",
        sa.Column("h_instancia", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["h_instancia", "run_id"], ["runs.h_instancia", "runs.id"], ondelete="CASCADE"
        ),
    )
    op.execute(
        "INSERT INTO run_artifacts (h_instancia, run_id, name, sha256, media_type, size) "
        "SELECT h_instancia, run_id, name, sha256, media_type, size FROM run_artifacts_new"
    )
    op.drop_table("run_artifacts_new")
    op.create_index("ix_run_artifacts_sha256", "run_artifacts", ["sha256"])

    # Alerts: an instance's own, or (no instance) the whole server's, for operators.
    with op.batch_alter_table("sentinel_alerts") as batch:
        batch.add_column(sa.Column("h_instancia", sa.String(64), nullable=True))
        batch.drop_index("ix_sentinel_alerts_rule_state")
        batch.create_index("ix_sentinel_alerts_rule_state", ["rule", "h_instancia", "state"])

    # Operator keys belong to no instance.
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("instance_id", existing_type=sa.Integer, nullable=True)


def downgrade() -> None:
    raise NotImplementedError("0004 (tenancy) cannot be undone: restore a backup")
