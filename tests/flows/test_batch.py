"""Pacing the group commit (flows/batch.py): a batch of one until this process has
measured its executions quick, up to MAX_BATCH; a cell is fast (its steps written in a
group) once its runs take less than FAST_SECONDS. The group commit itself is
tests/flows/test_runner.py's."""

import pytest

from tzzr.flows.batch import BATCH_SECONDS, FAST_SECONDS, MAX_BATCH, Speed
from tzzr.flows.spec import Step


def step(cell: str = "test-noop", version: str | None = None) -> Step:
    return Step(id="a", cell=cell, version=version)


def test_a_new_process_takes_one_execution_at_a_time() -> None:
    speed = Speed()
    assert speed.batch() == 1
    assert not speed.fast(step())  # an unmeasured cell is slow


def test_quick_executions_grow_the_batch_up_to_its_bound() -> None:
    speed = Speed()
    speed.batch_took(10, 10 * BATCH_SECONDS / 5)  # half the first guess, half the measure
    assert speed.per_execution == pytest.approx(0.5 + BATCH_SECONDS / 10)
    assert speed.batch() == 1  # one quick batch does not undo the first guess
    for _ in range(20):
        speed.batch_took(10, 10 * BATCH_SECONDS / 5)
    assert speed.batch() == 4  # a fifth of a batch each, from above: 4 fit
    for _ in range(40):
        speed.batch_took(100, 1e-6)
    assert speed.batch() == MAX_BATCH
    speed.batch_took(0, 0)  # an empty batch counts as one execution
    assert speed.batch() == MAX_BATCH


def test_slow_executions_shrink_it_back_to_one() -> None:
    speed = Speed(per_execution=BATCH_SECONDS / MAX_BATCH)
    assert speed.batch() == MAX_BATCH
    for _ in range(10):
        speed.batch_took(2, 1.0)
    assert speed.batch() == 1


def test_a_cell_is_fast_by_its_own_version_once_measured() -> None:
    speed = Speed()
    quick, other = step(version="1.0.0"), step(version="2.0.0")
    speed.cell(quick, FAST_SECONDS / 10)  # the first measure is taken as it is
    assert speed.fast(quick) and not speed.fast(other) and not speed.fast(step("test-echo"))
    speed.cell(quick, 1.0)  # a slow run moves the average by a fifth
    assert speed.cells[("test-noop", "1.0.0")] == pytest.approx(0.8 * FAST_SECONDS / 10 + 0.2)
    assert not speed.fast(quick)
