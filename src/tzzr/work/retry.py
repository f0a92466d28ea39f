"""Retry with back-off: one rule for runs, executions and jobs."""


def backoff(base_seconds: float, attempt: int) -> float:
    """Seconds before retrying after failed attempt number `attempt` (1-based): the
    base, doubling with each attempt."""
    return float(base_seconds * 2 ** (attempt - 1))
