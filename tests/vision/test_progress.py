"""The roll-up, pure: weighted means against a naive reference, bounds, key results in
either direction."""

from hypothesis import given
from hypothesis import strategies as st

from tzzr.vision import progress

parts = st.lists(st.tuples(st.floats(0, 1), st.floats(0.001, 1000)), max_size=20)


@given(parts)
def test_the_weighted_mean_is_the_naive_one_and_stays_in_bounds(
    items: list[tuple[float, float]],
) -> None:
    found = progress.weighted(items)
    assert 0.0 <= found <= 1.0
    if not items:
        assert found == 0.0
        return
    naive = sum(p * w for p, w in items) / sum(w for _, w in items)
    assert abs(found - naive) < 1e-9
    assert min(p for p, _ in items) - 1e-9 <= found <= max(p for p, _ in items) + 1e-9


@given(parts, st.floats(0.001, 1000))
def test_a_finished_part_never_lowers_progress(
    items: list[tuple[float, float]], weight: float
) -> None:
    assert progress.weighted([*items, (1.0, weight)]) >= progress.weighted(items) - 1e-9


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_key_results_go_either_way(start: float, target: float, current: float) -> None:
    found = progress.key_result(start, target, current)
    assert 0.0 <= found <= 1.0
    if start != target:
        assert progress.key_result(start, target, target) == 1.0
        assert progress.key_result(start, target, start) == 0.0


def test_examples() -> None:
    assert progress.key_result(80, 70, 75) == 0.5  # losing weight: down is progress
    assert progress.key_result(0, 40, 50) == 1.0
    assert progress.key_result(0, 40, None) == 0.0
    assert progress.milestone(True, [(0.0, 1.0)]) == 1.0
    assert progress.milestone(False, [(1.0, 3.0), (0.0, 1.0)]) == 0.75
