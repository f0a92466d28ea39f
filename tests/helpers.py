"""Small helpers shared by tests."""

from collections.abc import Sequence


def edit_distance(expected: Sequence[object], got: Sequence[object]) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(got) + 1))
    for i, a in enumerate(expected, 1):
        current = [i]
        for j, b in enumerate(got, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]
