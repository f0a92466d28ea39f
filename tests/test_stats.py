import pytest

from tzzr.stats import p95, percentile


def test_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1 … 100
    assert percentile(values, 0.5) == 51.0  # round(49.5) is 50 (to even): the 51st value
    assert p95(values) == 95.0
    assert percentile(values, 0) == 1.0 and percentile(values, 1) == 100.0


def test_small_samples() -> None:
    assert p95([]) is None
    assert p95([7.0]) == 7.0
    assert p95([1.0, 2.0]) == 2.0
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


@pytest.mark.parametrize("q", [-0.1, 1.5])
def test_a_quantile_is_between_0_and_1(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], q)
