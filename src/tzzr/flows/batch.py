"""Pacing ALFRED's group commit (flows/runner.py): how many queued executions a worker
takes at once, and which finished steps may wait to be written together. Learned from
what this worker process measured: a batch of one until its executions prove quick."""

from dataclasses import dataclass, field

from tzzr.flows.spec import Step

MAX_BATCH = 32  # executions taken from the queue at once
BATCH_SECONDS = 0.05  # about how long a batch may keep its executions from other workers
FAST_SECONDS = 0.005  # a cell whose runs take less may have its steps written in a group
GROUP_SECONDS = 0.01  # the longest a finished fast step waits to be written
HOLD_SECONDS = 4 * BATCH_SECONDS  # a batch running longer gives back all but one


@dataclass
class Speed:
    """How long this process's executions and cells took, to size batches and groups."""

    per_execution: float = 1.0  # seconds, until measured: a batch of one
    cells: dict[tuple[str, str | None], float] = field(default_factory=dict)

    def batch(self) -> int:
        return max(1, min(MAX_BATCH, int(BATCH_SECONDS / max(self.per_execution, 1e-6))))

    def fast(self, step: Step) -> bool:
        return self.cells.get((step.cell, step.version), 1.0) < FAST_SECONDS

    def cell(self, step: Step, seconds: float) -> None:
        key = (step.cell, step.version)
        known = self.cells.get(key)
        self.cells[key] = seconds if known is None else 0.8 * known + 0.2 * seconds

    def batch_took(self, executions: int, seconds: float) -> None:
        per = seconds / max(1, executions)
        self.per_execution = 0.5 * self.per_execution + 0.5 * per
