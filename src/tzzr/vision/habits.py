"""Habit arithmetic, pure: which days count as done, streaks, and the strength score.

It follows Loop Habit Tracker (iSoron/uhabits, uhabits-core `EntryList`, `ScoreList`,
`Score`), so that a history imported from Loop keeps its meaning:

- A habit is done `times` times per `interval_days` days (Loop's frequency numerator
  and denominator). For a yes/no habit, every `times` check-ins that fall within one
  interval make an interval of days that count as done (Loop's YES_AUTO days around the
  YES_MANUAL ones); older intervals slide back to close gaps (`snapIntervalsTogether`).
  Loop's special case for monthly habits (an interval of 30 or 31 days follows the month's
  length) is left out: every interval is `interval_days` long.
- A numeric habit is met on a day when the values of the `interval_days` days ending
  that day add up to at least `target`.
- Strength (Loop's score): for each day from the first check-in to today,
  `score = previous · m + completed · (1 − m)` with `m = 0.5 ** (sqrt(freq) / 13)` and
  `freq = times / interval_days`; `completed` is the share of the interval's goal met by
  the check-ins of the last `interval_days` days (doubled, for yes/no habits done less
  than daily, to smooth irregular schedules), at most 1.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

BOOLEAN = "boolean"
NUMERIC = "numeric"
KINDS = (BOOLEAN, NUMERIC)


@dataclass(frozen=True)
class Frequency:
    times: int
    interval_days: int

    @property
    def value(self) -> float:
        return self.times / self.interval_days


@dataclass(frozen=True)
class Interval:
    begin: date
    center: date
    end: date


def multiplier(freq: float) -> float:
    """Loop's `Score.compute` decay: 0.5 ** (sqrt(freq) / 13)."""
    return float(0.5 ** (math.sqrt(freq) / 13.0))


def next_score(freq: float, previous: float, completed: float) -> float:
    """Loop's `Score.compute`: previous · m + completed · (1 − m)."""
    m = multiplier(freq)
    return previous * m + completed * (1 - m)


def build_intervals(freq: Frequency, checked: list[date]) -> list[Interval]:
    """Loop's `buildIntervals`: each `times` check-ins within `interval_days` days open an
    interval at the oldest of them; `checked` newest first, the intervals likewise."""
    num, den = freq.times, freq.interval_days
    found: list[Interval] = []
    for i in range(num - 1, len(checked)):
        begin, center = checked[i], checked[i - num + 1]
        if (center - begin).days < den:
            found.append(Interval(begin, center, begin + timedelta(days=den - 1)))
    return found


def snap_intervals(found: list[Interval]) -> list[Interval]:
    """Loop's `snapIntervalsTogether`: from the second newest on, each interval slides
    back (no further than its center allows) to close the gap to the newer one."""
    found = list(found)
    for i in range(1, len(found)):
        curr, newer = found[i], found[i - 1]
        gap_to_newer = (curr.end - newer.begin).days
        gap_center_to_end = (curr.end - curr.center).days
        if gap_to_newer >= 0:
            shift = timedelta(days=min(gap_center_to_end, gap_to_newer + 1))
            found[i] = Interval(curr.begin - shift, curr.center, curr.end - shift)
    return found


def intervals(freq: Frequency, checked: list[date]) -> list[Interval]:
    return snap_intervals(build_intervals(freq, checked))


def done_days(
    kind: str, freq: Frequency, values: Mapping[date, float], target: float | None
) -> set[date]:
    """The days that count as done: for a yes/no habit its check-ins and the days of the
    intervals they complete; for a numeric one the days its interval's sum reaches target."""
    if kind == NUMERIC:
        if not values:
            return set()
        goal, span = target or 0.0, freq.interval_days
        done = set()
        rolling = 0.0
        day, last = min(values), max(values) + timedelta(days=span - 1)
        while day <= last:
            rolling += values.get(day, 0.0) - values.get(day - timedelta(days=span), 0.0)
            if rolling > 0 and rolling >= goal - 1e-9:
                done.add(day)
            day += timedelta(days=1)
        return done
    checked = sorted((d for d, v in values.items() if v > 0), reverse=True)
    days = set(checked)
    for interval in intervals(freq, checked):
        span = (interval.end - interval.begin).days
        days.update(interval.begin + timedelta(days=k) for k in range(span + 1))
    return days


def streaks(days: set[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days, (first, last), newest first."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs[::-1]


def length(run: tuple[date, date]) -> int:
    return (run[1] - run[0]).days + 1


def current_streak(days: set[date], today: date) -> int:
    """The run that ends today, or yesterday (today is not over yet); 0 when neither."""
    for run in streaks(days):
        if run[0] <= today and run[1] >= today - timedelta(days=1):
            last = min(run[1], today)
            return (last - run[0]).days + 1
        if run[1] < today - timedelta(days=1):
            break
    return 0


def best_streak(days: set[date]) -> int:
    return max((length(run) for run in streaks(days)), default=0)


def _window(kind: str, freq: Frequency) -> tuple[int, int]:
    """Loop's (numerator, denominator) for the score: doubled for yes/no habits done
    less than daily, to smooth irregular schedules."""
    if kind == BOOLEAN and freq.value < 1.0:
        return freq.times * 2, freq.interval_days * 2
    return freq.times, freq.interval_days


def _amount(kind: str, value: float | None) -> float:
    """What a day adds to the rolling sum."""
    if value is None:
        return 0.0
    return max(0.0, value) if kind == NUMERIC else (1.0 if value > 0 else 0.0)


def _completed(kind: str, rolling: float, numerator: int, target: float | None) -> float:
    if kind == NUMERIC:
        goal = target or 0.0
        return min(1.0, rolling / goal) if goal > 0 else 1.0
    return min(1.0, rolling / numerator)


def scores(
    kind: str,
    freq: Frequency,
    values: Mapping[date, float],
    target: float | None,
    today: date,
) -> dict[date, float]:
    """Loop's `ScoreList.recompute`: the strength score of every day from the first
    check-in to `today` (nothing before the first check-in)."""
    past = {d: v for d, v in values.items() if d <= today}
    if not past:
        return {}
    numerator, denominator = _window(kind, freq)
    out: dict[date, float] = {}
    previous = rolling = 0.0
    day = min(past)
    while day <= today:
        leaving = day - timedelta(days=denominator)
        rolling += _amount(kind, past.get(day)) - _amount(kind, past.get(leaving))
        previous = next_score(freq.value, previous, _completed(kind, rolling, numerator, target))
        out[day] = previous
        day += timedelta(days=1)
    return out


def strength(
    kind: str, freq: Frequency, values: Mapping[date, float], target: float | None, today: date
) -> float:
    """Today's strength score in [0, 1] (0 before any check-in): `scores`' last value,
    computed in steps between the days the rolling sum changes (a check-in, and the day
    it leaves the window), where the score moves geometrically toward a constant:
    s_n = s · m^n + c · (1 − m^n). As many steps as check-ins, not days."""
    past = {d: v for d, v in values.items() if d <= today}
    if not past:
        return 0.0
    numerator, denominator = _window(kind, freq)
    window = timedelta(days=denominator)
    m = multiplier(freq.value)
    changes = sorted(set(past) | {d + window for d in past if d + window <= today})
    score = rolling = 0.0
    for k, change in enumerate(changes):
        rolling += _amount(kind, past.get(change)) - _amount(kind, past.get(change - window))
        last = changes[k + 1] - timedelta(days=1) if k + 1 < len(changes) else today
        steps = (last - change).days + 1
        decay = m**steps
        score = score * decay + _completed(kind, rolling, numerator, target) * (1 - decay)
    return score
