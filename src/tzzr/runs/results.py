"""A finished run's `attestation` leaf. (Keeping a cell's answer as blobs, and its
metrics, is the durable-work core's: tzzr.cells.answers.)"""

from datetime import datetime
from typing import Any


def attestation(
    run_id: str,
    result_sha: str,
    ts: datetime,
    cell: str,
    version: str,
    input_sha: str,
    params: str,
) -> tuple[str, str, str, datetime, dict[str, Any]]:
    """The `attestation` leaf of a finished run, as Ledger.append_all_in takes it: which
    cell version turned which input and params into which result."""
    extra = {"cell": cell, "version": version, "input": input_sha, "params": params}
    return "attestation", run_id, result_sha, ts, extra
