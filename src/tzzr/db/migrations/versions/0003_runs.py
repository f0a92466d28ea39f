"""Cell runs, cells registered over HTTP, jobs; flows, executions, MASON; SENTINEL.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from tzzr.db.models import JSONDoc, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
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
    op.create_index(
        "ix_runs_reuse",
        "runs",
        ["h_instancia", "cell_id", "cell_version", "input_sha", "params_hash"],
    )
    op.create_index("ix_runs_status_lease", "runs", ["status", "lease_until"])
    op.create_index("ix_runs_cell_created", "runs", ["cell_id", "created_at"])
    op.create_table(
        "run_artifacts",
        sa.Column(
            "run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_run_artifacts_sha256", "run_artifacts", ["sha256"])
    op.create_table(
        "cells",
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
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request", JSONDoc, nullable=False),
        sa.Column("progress", JSONDoc, nullable=False),
        sa.Column("result", JSONDoc, nullable=True),
        sa.Column("error", JSONDoc, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("enrichment_schema", JSONDoc, nullable=True))
    op.create_table(
        "flows",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("spec", JSONDoc, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("flow_id", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.Integer, nullable=False),
        sa.Column("h_entrada", sa.String(64), nullable=True),
        sa.Column("input", JSONDoc, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_step", sa.Integer, nullable=False),
        sa.Column("steps", JSONDoc, nullable=False),
        sa.Column("decision", JSONDoc, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("error", JSONDoc, nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_executions_instance_created", "executions", ["h_instancia", "created_at"])
    op.create_index("ix_executions_status_lease", "executions", ["status", "lease_until"])
    op.create_index("ix_executions_entry", "executions", ["h_entrada"])
    op.create_table(
        "enrichments",
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), primary_key=True
        ),
        sa.Column("h_entrada", sa.String(64), primary_key=True),
        sa.Column("execution_id", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("deadline", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_enrichments_state_deadline", "enrichments", ["state", "deadline"])
    op.create_table(
        "enrichment_versions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "h_instancia", sa.String(64), sa.ForeignKey("instances.h_instancia"), nullable=False
        ),
        sa.Column("h_entrada", sa.String(64), nullable=False),
        sa.Column("fields", JSONDoc, nullable=False),
        sa.Column("fields_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_enrichment_versions_entry", "enrichment_versions", ["h_instancia", "h_entrada"]
    )
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "sentinel_events",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("ts", UTCDateTime, nullable=False),
        sa.Column("h_instancia", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("data", JSONDoc, nullable=False),
    )
    op.create_index("ix_sentinel_events_ts", "sentinel_events", ["ts"])
    op.create_index("ix_sentinel_events_kind_ts", "sentinel_events", ["kind", "ts"])
    op.create_table(
        "sentinel_alerts",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("data", JSONDoc, nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("acknowledged_at", UTCDateTime, nullable=True),
        sa.Column("resolved_at", UTCDateTime, nullable=True),
        sa.Column("notified", sa.Boolean, nullable=False),
    )
    op.create_index("ix_sentinel_alerts_rule_state", "sentinel_alerts", ["rule", "state"])


def downgrade() -> None:
    op.drop_table("sentinel_alerts")
    op.drop_table("sentinel_events")
    op.drop_table("enrichment_versions")
    op.drop_table("enrichments")
    op.drop_table("executions")
    op.drop_table("flows")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("enrichment_schema")
    op.drop_table("jobs")
    op.drop_table("cells")
    op.drop_table("run_artifacts")
    op.drop_table("runs")
