"""Percentiles of latencies, one way: the nearest rank."""

from collections.abc import Sequence


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The value at quantile `q` (0 to 1) of `ordered` (sorted ascending), by the nearest
    rank: round(q·(n−1)); None for no values."""
    if not 0 <= q <= 1:
        raise ValueError(f"a quantile is between 0 and 1, not {q}")
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p95(ordered: Sequence[float]) -> float | None:
    return percentile(ordered, 0.95)
