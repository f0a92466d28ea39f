"""Tenancy: flows, registered cells, runs (their ids), run artifacts and alerts belong to
one instance; operator keys belong to none.

Flows and registered cells were server-wide, and nothing says which instance's admin made
each one. With one instance, it gets them all. With several, no instance is handed
another's configuration: each gets the shipped flows it had unchanged; any other flow is
copied into each instance *deleted* (its versions stay readable, `POST /flows` restores
it), and registered cells are not copied. What was parked is written, in full (cell tokens
left out), into a server-wide `upgrade` event an operator reads at `/operator/events`.

Revision ID: 0004
Revises: 0003
"""

from datetime import UTC, datetime
from typing import Any

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


_OLD_FLOWS = sa.table(
    "flows",
    sa.column("id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("spec", JSONDoc),
    sa.column("deleted", sa.Boolean),
    sa.column("created_at", UTCDateTime),
)
# The same columns, and the instance's.
_NEW_FLOWS = sa.table(
    "flows_new",
    sa.column("h_instancia", sa.String),
    *(sa.column(c.name, c.type) for c in _OLD_FLOWS.columns),
)
_OLD_CELLS = sa.table(
    "cells",
    sa.column("id", sa.String),
    sa.column("version", sa.String),
    sa.column("base", sa.String),
    sa.column("meta", JSONDoc),
    sa.column("module", sa.String),
    sa.column("accepts", JSONDoc),
    sa.column("defaults", JSONDoc),
    sa.column("token", sa.String),
    sa.column("created_at", UTCDateTime),
)


def _instances() -> list[str]:
    return [
        str(h)
        for (h,) in op.get_bind().execute(sa.text("SELECT h_instancia FROM instances ORDER BY id"))
    ]


def _copy_flows(conn: sa.Connection, instances: list[str]) -> dict[str, list[Any]]:
    from tzzr.flows.defaults import DEFAULT_FLOWS
    from tzzr.flows.spec import validate

    shipped = {f["id"]: validate(f).model_dump(mode="json", by_alias=True) for f in DEFAULT_FLOWS}
    rows = conn.execute(sa.select(_OLD_FLOWS).order_by(_OLD_FLOWS.c.id, _OLD_FLOWS.c.version))
    versions: dict[str, list[Any]] = {}
    for row in rows:
        versions.setdefault(row.id, []).append(row)
    parked: dict[str, list[Any]] = {"flows": [], "cells": []}
    now = datetime.now(UTC)
    for flow_id, kept in versions.items():
        latest = kept[-1]
        unchanged = not latest.deleted and latest.spec == shipped.get(flow_id)
        park = len(instances) != 1 and not unchanged and not latest.deleted
        values = [
            {"h_instancia": h, **{k: getattr(row, k) for k in row._fields}}
            for h in instances
            for row in kept
        ]
        if park:
            # A tombstone on top: not live anywhere until an admin restores it.
            values += [
                {
                    "h_instancia": h,
                    "id": flow_id,
                    "version": latest.version + 1,
                    "spec": latest.spec,
                    "deleted": True,
                    "created_at": now,
                }
                for h in instances
            ]
            parked["flows"].append({"id": flow_id, "version": latest.version, "spec": latest.spec})
        if values:
            conn.execute(sa.insert(_NEW_FLOWS), values)
    return parked


def _report(parked: dict[str, list[Any]]) -> None:
    """A server-wide event with what no instance was given (nothing is lost)."""
    import json

    events = sa.table(
        "sentinel_events",
        sa.column("ts", UTCDateTime),
        sa.column("h_instancia", sa.String),
        sa.column("kind", sa.String),
        sa.column("severity", sa.String),
        sa.column("subject", sa.String),
        sa.column("data", JSONDoc),
    )
    data = json.loads(json.dumps(parked, default=str))  # timestamps as text
    data["message"] = (
        "0004 gave no instance these server-wide flows and cells: each instance's admin "
        "restores a parked flow with POST /flows (its spec is here and at "
        "GET /flows/{id}?version=N) and registers its remote cells again"
    )
    op.get_bind().execute(
        sa.insert(events).values(
            ts=datetime.now(UTC),
            h_instancia=None,
            kind="upgrade",
            severity="warning",
            subject="0004",
            data=data,
        )
    )


def _rename_constraints(old: str, new: str) -> None:
    """PostgreSQL keeps a renamed table's constraint names (`runs_new_pkey`): give them
    the names a fresh database has, so later migrations can name them."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE {new} RENAME CONSTRAINT "{old}_pkey" TO "{new}_pkey"')
    op.execute(
        f'ALTER TABLE {new} RENAME CONSTRAINT "{old}_h_instancia_fkey" TO "{new}_h_instancia_fkey"'
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
    parked = _copy_flows(op.get_bind(), _instances())
    op.drop_table("flows")
    op.rename_table("flows_new", "flows")
    _rename_constraints("flows_new", "flows")

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
    instances = _instances()
    if len(instances) == 1:
        op.execute(
            "INSERT INTO cells_new (h_instancia, id, version, base, meta, module, accepts, "
            "defaults, token, created_at) SELECT i.h_instancia, c.id, c.version, c.base, "
            "c.meta, c.module, c.accepts, c.defaults, c.token, c.created_at "
            "FROM cells c CROSS JOIN instances i"
        )
    else:
        parked["cells"] = [
            {k: v for k, v in row._mapping.items() if k != "token"}
            for row in op.get_bind().execute(sa.select(_OLD_CELLS))
        ]
    if parked["flows"] or parked["cells"]:
        _report(parked)
    op.drop_table("cells")
    op.rename_table("cells_new", "cells")
    _rename_constraints("cells_new", "cells")

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
    _rename_constraints("runs_new", "runs")
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
