"""Known answers from Loop Habit Tracker's own tests (iSoron/uhabits, uhabits-core
ScoreListTest.kt): the same check-ins give the same strength, to 1e-6."""

from datetime import date, timedelta

import pytest

from tzzr.vision import habits as h

TODAY = date(2026, 12, 2)
E = 1e-6
# YesNoScoreListTest.test_getValue: checked today and the 19 days before; the score of
# today, yesterday, … (NumericalAtLeastScoreListTest.test_getValue: the same, 2.0 a day
# against a target of 2.0)
TWENTY_DAYS = [
    0.655747, 0.636894, 0.617008, 0.596033, 0.573910, 0.550574, 0.525961, 0.500000,
    0.472617, 0.443734, 0.413270, 0.381137, 0.347244, 0.311495, 0.273788, 0.234017,
    0.192067, 0.147820, 0.101149, 0.051922, 0.0, 0.0, 0.0,
]  # fmt: skip


def days(*offsets: int) -> dict[date, float]:
    return {TODAY - timedelta(days=k): 1.0 for k in offsets}


def score(kind: str, freq: h.Frequency, values: dict[date, float], target: float | None) -> float:
    return h.strength(kind, freq, values, target, TODAY)


@pytest.mark.parametrize(
    ("kind", "value", "target"), [(h.BOOLEAN, 1.0, None), (h.NUMERIC, 2.0, 2.0)]
)
def test_twenty_days_in_a_row(kind: str, value: float, target: float | None) -> None:
    values = dict.fromkeys(days(*range(20)), value)
    found = h.scores(kind, h.Frequency(1, 1), values, target, TODAY)
    for k, expected in enumerate(TWENTY_DAYS):
        assert found.get(TODAY - timedelta(days=k), 0.0) == pytest.approx(expected, abs=E)


def test_recompute_with_another_frequency() -> None:
    two = days(0, 1)
    assert score(h.BOOLEAN, h.Frequency(1, 1), two, None) == pytest.approx(0.101149, abs=E)
    assert score(h.BOOLEAN, h.Frequency(1, 2), two, None) == pytest.approx(0.054816, abs=E)
    numeric = dict.fromkeys(two, 2.0)
    assert score(h.NUMERIC, h.Frequency(1, 2), numeric, 2.0) == pytest.approx(0.072631, abs=E)


def test_one_check_in_and_overachieving() -> None:
    assert score(h.BOOLEAN, h.Frequency(1, 1), days(0), None) == pytest.approx(0.051922, abs=E)
    huge = {TODAY: 10_000.0}
    assert score(h.NUMERIC, h.Frequency(1, 1), huge, 2.0) == pytest.approx(0.051922, abs=E)


def test_half_the_target_converges_to_a_half() -> None:
    values = {TODAY - timedelta(days=k): 1.0 for k in range(500)}
    assert score(h.NUMERIC, h.Frequency(1, 1), values, 2.0) == pytest.approx(0.5, abs=E)
    values = {TODAY - timedelta(days=k): 0.5 for k in range(500)}
    assert score(h.NUMERIC, h.Frequency(1, 1), values, 2.0) == pytest.approx(0.25, abs=E)


def test_imperfect_and_irregular_non_daily_habits() -> None:
    # two of every seven days: 3 a week converges to 2/3, 4 a week to 1/2
    two_a_week = days(*(7 * k + d for k in range(100) for d in (0, 1)))
    assert score(h.BOOLEAN, h.Frequency(3, 7), two_a_week, None) == pytest.approx(2 / 3, abs=E)
    assert score(h.BOOLEAN, h.Frequency(4, 7), two_a_week, None) == pytest.approx(0.5, abs=E)
    # weekly, on different weekdays: still about 1
    irregular = days(*(14 * k + d for k in range(100) for d in (0, 13)))
    assert score(h.BOOLEAN, h.Frequency(1, 7), irregular, None) == pytest.approx(1.0, abs=1e-3)


def test_high_scores_in_reasonable_time() -> None:
    assert score(h.BOOLEAN, h.Frequency(1, 1), days(*range(90)), None) > 0.99
    assert score(h.BOOLEAN, h.Frequency(1, 7), days(*(7 * i for i in range(39))), None) > 0.99
    assert score(h.BOOLEAN, h.Frequency(1, 30), days(*(30 * i for i in range(18))), None) > 0.99


def day(offset: int) -> date:
    return TODAY - timedelta(days=offset)


def interval(begin: int, center: int, end: int) -> h.Interval:
    return h.Interval(day(begin), day(center), day(end))


def test_intervals_are_built_as_loops() -> None:
    # EntryListTest.testBuildIntervals1..3
    checked = [day(8), day(18), day(23)]
    assert h.build_intervals(h.Frequency(1, 7), checked) == [
        interval(8, 8, 2),
        interval(18, 18, 12),
        interval(23, 23, 17),
    ]
    assert h.build_intervals(h.Frequency(1, 1), checked) == [
        interval(8, 8, 8),
        interval(18, 18, 18),
        interval(23, 23, 23),
    ]
    five = [day(8), day(15), day(18), day(22), day(23)]
    assert h.build_intervals(h.Frequency(2, 7), five) == [
        interval(18, 15, 12),
        interval(22, 18, 16),
        interval(23, 22, 17),
    ]


def test_intervals_snap_together_as_loops() -> None:
    # EntryListTest.testSnapIntervalsTogether1 and 2
    one = [interval(8, 8, 2), interval(12, 12, 6), interval(20, 20, 14), interval(27, 27, 21)]
    assert h.snap_intervals(one) == [
        interval(8, 8, 2),
        interval(15, 12, 9),
        interval(22, 20, 16),
        interval(29, 27, 23),
    ]
    two = [interval(6, 4, 0), interval(11, 8, 5)]
    assert h.snap_intervals(two) == [interval(6, 4, 0), interval(13, 8, 7)]
