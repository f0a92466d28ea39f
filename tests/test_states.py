import json
from enum import StrEnum

import pytest

from tzzr.states import (
    ENTRY_IN_FLIGHT,
    RUN_FAILED,
    RUN_TERMINAL,
    AlertState,
    EnrichmentState,
    EntryState,
    ExecutionStatus,
    JobStatus,
    RunStatus,
    StepStatus,
    values,
)

# The strings stored in the database and sent in JSON before the enums: they must not move.
STORED = {
    EntryState: ("received", "processing", "enriching", "consolidated"),
    RunStatus: ("queued", "running", "done", "failed", "cancelled", "timed_out"),
    ExecutionStatus: ("queued", "running", "done", "failed"),
    StepStatus: ("pending", "done", "failed"),
    EnrichmentState: ("pending", "enriched", "expired"),
    AlertState: ("open", "acknowledged", "resolved"),
}


@pytest.mark.parametrize("states", list(STORED))
def test_members_are_the_stored_strings(states: type[StrEnum]) -> None:
    assert values(states) == STORED[states]
    for member in states:
        assert member == member.value and str(member) == member.value
        assert json.dumps(member) == json.dumps(member.value)
        assert states(member.value) is member


def test_executions_and_jobs_share_the_durable_states() -> None:
    assert ExecutionStatus is JobStatus
    assert values(JobStatus) == ("queued", "running", "done", "failed")


def test_groups() -> None:
    assert set(RUN_TERMINAL) == set(RunStatus) - {RunStatus.QUEUED, RunStatus.RUNNING}
    assert set(RUN_FAILED) <= set(RUN_TERMINAL)
    assert "done" in RUN_TERMINAL and "queued" not in RUN_TERMINAL
    assert set(ENTRY_IN_FLIGHT) == {"processing", "enriching"}


def test_an_unknown_string_is_no_state() -> None:
    with pytest.raises(ValueError):
        RunStatus("finished")
