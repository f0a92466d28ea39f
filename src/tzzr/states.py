"""The workflow states, one StrEnum per kind of row. A member is its string (`RunStatus.DONE
== "done"`), so the database columns and the JSON keep the values they always had."""

from enum import StrEnum


class EntryState(StrEnum):
    """An entry, from capture to the ledger."""

    RECEIVED = "received"  # stored; no flow took it
    PROCESSING = "processing"  # a flow execution works on it
    ENRICHING = "enriching"  # in MASON's window, waiting for fields
    CONSOLIDATED = "consolidated"  # its flow and window are over


# An entry still changing: FELDMAN seals only entries past these.
ENTRY_IN_FLIGHT = (EntryState.PROCESSING, EntryState.ENRICHING)


class RunStatus(StrEnum):
    """A cell run, a row of `runs`."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"


RUN_TERMINAL = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.TIMED_OUT)
RUN_FAILED = (RunStatus.FAILED, RunStatus.TIMED_OUT)  # what a failure rate counts


class WorkStatus(StrEnum):
    """Durable work that is not a run: a flow execution (`executions`), a job (`jobs`)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ExecutionStatus = WorkStatus
JobStatus = WorkStatus


class StepStatus(StrEnum):
    """One step of an execution, in its `steps` list."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class EnrichmentState(StrEnum):
    """An item in MASON's enrichment window."""

    PENDING = "pending"
    ENRICHED = "enriched"
    EXPIRED = "expired"


class AlertState(StrEnum):
    """A SENTINEL alert."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


def values(states: type[StrEnum]) -> tuple[str, ...]:
    """The strings of a state enum in declaration order, for "must be one of …" messages."""
    return tuple(member.value for member in states)
