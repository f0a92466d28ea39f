"""Progress, pure: computed from the rows each time it is read, never stored.

An action is 0 or 1 (done); a key result is how far its newest value went from its start
toward its target, clamped to [0, 1]; a habit counts with its strength score today. A
milestone is 1 once achieved, else the weighted mean of its actions, key results and
habits (0 with none); a vision is the weighted mean of its milestones (0 with none).
"""

from collections.abc import Iterable


def weighted(parts: Iterable[tuple[float, float]]) -> float:
    """The mean of (progress, weight) pairs by weight; 0 for none (or no weight)."""
    total = mass = 0.0
    for progress, weight in parts:
        total += progress * weight
        mass += weight
    return clamp(total / mass) if mass > 0 else 0.0


def clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def key_result(start: float, target: float, current: float | None) -> float:
    """Share of the way from `start` to `target` (either direction) that `current` went."""
    if current is None:
        return 0.0
    if target == start:
        return 1.0 if current == target else 0.0
    return clamp((current - start) / (target - start))


def milestone(achieved: bool, children: Iterable[tuple[float, float]]) -> float:
    return 1.0 if achieved else weighted(children)
