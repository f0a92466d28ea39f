from datetime import UTC, datetime

from tzzr.runs.results import attestation


def test_a_runs_attestation_names_what_made_its_result() -> None:
    ts = datetime(2026, 5, 1, tzinfo=UTC)
    leaf = attestation("r1", "ab" * 32, ts, "ocr-core", "1.0.0", "cd" * 32, "ef" * 32)
    assert leaf == (
        "attestation",
        "r1",
        "ab" * 32,
        ts,
        {"cell": "ocr-core", "version": "1.0.0", "input": "cd" * 32, "params": "ef" * 32},
    )
