"""Flows benchmark (issue 6): executions per second of a flow of three no-op cells,
queued first and then drained by `tzzr worker` processes, on the embedded shape (SQLite,
local blobs, the SQLite queue; goal >= 500/s, n8n reports ~220/s per instance) and on
the scale-out shape (PostgreSQL, an S3 API server, Redis: set TZZR_TEST_DATABASE_URL,
TZZR_TEST_S3_ENDPOINT and TZZR_TEST_REDIS_URL, as `make test` does), with 1 and 2
workers. The reference measured in the same run: the same three no-op cells called
directly in a loop, with nothing recorded."""

import argparse
import base64
import os
import tempfile
import time
import uuid
from pathlib import Path

from drain import seconds_each

FLOW = {
    "id": "noop3",
    "trigger": {"on": "manual"},
    "steps": [
        {"id": "a", "cell": "test-noop"},
        {"id": "b", "cell": "test-noop"},
        {"id": "c", "cell": "test-noop"},
    ],
    "decision": "exists(c)",
}


def bare(executions: int) -> float:
    """Seconds per execution of the three cells called directly."""
    from tzzr_testcells import NoopCell

    from tzzr.cells.base import CellContext, Payload

    cell = NoopCell()
    assert cell is not None
    started = time.perf_counter()
    for i in range(executions):
        for step in "abc":
            cell.run(CellContext(f"{i}{step}", None, {}), Payload("bytes", b"%d" % i))
    return (time.perf_counter() - started) / executions


def scale_out_env(work: Path) -> dict[str, str] | None:
    database = os.environ.get("TZZR_TEST_DATABASE_URL")
    s3 = os.environ.get("TZZR_TEST_S3_ENDPOINT")
    redis = os.environ.get("TZZR_TEST_REDIS_URL")
    if not (database and s3 and redis):
        return None
    import boto3
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=s3,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    return {
        "TZZR_DATABASE_URL": database.rsplit("/", 1)[0] + "/" + name,
        "TZZR_QUEUE_URL": redis,
        "TZZR_BLOB_URL": f"s3://{bucket}",
        "TZZR_S3_ENDPOINT_URL": s3,
        "TZZR_S3_REGION": "us-east-1",
        "TZZR_S3_ACCESS_KEY_ID": "test",
        "TZZR_S3_SECRET_ACCESS_KEY": "test",
    }


def drain(home: Path, extra: dict[str, str], workers: int, executions: int) -> float:
    """Queue `executions`, start `workers` worker processes, time them through."""
    from tzzr.config import Settings
    from tzzr.db.models import Execution
    from tzzr.flows.spec import validate
    from tzzr.runs.service import RunInput
    from tzzr.services import Services

    env = {
        "TZZR_HOME": str(home),
        "TZZR_QUEUE_NAME": f"f{os.getpid()}w{workers}{uuid.uuid4().hex[:6]}",
        "TZZR_TEST_CELLS": "1",
        **extra,
    }
    os.environ.update(env)
    services = Services.build(Settings())
    services.bootstrap()
    services.flows.create(services.instances.get("deck").h_instancia, validate(FLOW))
    instance = services.instances.get("deck")
    store = services.ingest.store_for(instance)
    for i in range(executions):  # distinct inputs: no run is answered from a stored one
        given = RunInput(
            type="bytes", encoding="base64", content=base64.b64encode(b"%d" % i).decode()
        )
        services.alfred.start(instance, "noop3", given=given, store=store)
    try:
        return seconds_each(services.engine, Execution.status, executions, workers, env, 0.01)
    finally:
        services.close()


def main() -> None:
    os.environ["TZZR_TEST_CELLS"] = "1"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--executions", type=int, default=2000)
    args = parser.parse_args()
    reference = bare(args.executions)
    print(f"## A flow of three no-op cells, {args.executions} executions")
    print(f"reference (the three cells called directly): {1 / reference:9.0f} /s")
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-flows-") as tmp:
        shapes: list[tuple[str, dict[str, str] | None, str]] = [
            ("embedded (SQLite, local blobs, SQLite queue)", {}, "goal >= 500/s")
        ]
        shapes.append(("scale-out (PostgreSQL, S3, Redis)", scale_out_env(Path(tmp)), ""))
        for label, extra, goal in shapes:
            if extra is None:
                print(f"\n{label}: skipped (set the TZZR_TEST_* variables; make test does)")
                continue
            print(f"\n{label}")
            for workers in (1, 2):
                if label.startswith("scale-out") and workers == 2:
                    extra = scale_out_env(Path(tmp)) or extra  # a fresh database each time
                per = drain(Path(tmp) / f"{label[:8]}-{workers}", extra, workers, args.executions)
                note = f"  ({goal})" if goal else ""
                print(
                    f"{workers} worker process(es): {1 / per:7.0f} executions/s   "
                    f"{per * 1000:6.2f} ms each   {per / reference:8.0f}x the bare cells{note}"
                )


if __name__ == "__main__":
    main()
