"""Habit arithmetic: Loop's score formula, intervals, streaks across month ends and days
counted in the habit's time zone, with property tests against naive references."""

import math
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tzzr.vision import habits as h
from tzzr.vision.habit_store import checkin_day

DAILY = h.Frequency(1, 1)
DAY0 = date(2026, 1, 1)
day_sets = st.sets(st.integers(0, 120), max_size=60).map(
    lambda offsets: {DAY0 + timedelta(days=k) for k in offsets}
)


def test_score_multiplier_is_loops() -> None:
    # Score.compute: 0.5 ** (sqrt(freq) / 13); a daily habit halves its distance to a
    # constant in 13 days
    assert math.isclose(h.multiplier(1.0), 0.5 ** (1 / 13))
    score = 0.0
    for _ in range(13):
        score = h.next_score(1.0, score, 1.0)
    assert math.isclose(score, 0.5)


def test_strength_of_a_daily_habit_done_every_day_matches_the_closed_form() -> None:
    values = {DAY0 + timedelta(days=k): 1.0 for k in range(30)}
    today = DAY0 + timedelta(days=29)
    m = h.multiplier(1.0)
    assert math.isclose(h.strength(h.BOOLEAN, DAILY, values, None, today), 1 - m**30)


def test_weekly_habits_smooth_over_a_doubled_interval() -> None:
    freq = h.Frequency(1, 7)
    values = {DAY0: 1.0}
    # doubled: 2 per 14 days, so the first check-in counts one half for 14 days
    scores = h.scores(h.BOOLEAN, freq, values, None, DAY0 + timedelta(days=14))
    m = h.multiplier(1 / 7)
    expected = 0.0
    for _ in range(14):
        expected = expected * m + 0.5 * (1 - m)
    assert math.isclose(scores[DAY0 + timedelta(days=13)], expected)
    assert math.isclose(scores[DAY0 + timedelta(days=14)], expected * m)


@given(day_sets)
def test_a_daily_habits_streaks_are_its_runs_of_days(days: set[date]) -> None:
    done = h.done_days(h.BOOLEAN, DAILY, dict.fromkeys(days, 1.0), None)
    assert done == days
    runs = h.streaks(done)
    assert sum(h.length(run) for run in runs) == len(days)
    for first, last in runs:
        assert first - timedelta(days=1) not in days and last + timedelta(days=1) not in days
        assert all(first + timedelta(days=k) in days for k in range(h.length((first, last))))
    assert h.best_streak(done) == max((h.length(r) for r in runs), default=0)


@given(day_sets, st.integers(0, 130))
def test_the_current_streak_ends_today_or_yesterday(days: set[date], k: int) -> None:
    today = DAY0 + timedelta(days=k)
    found = h.current_streak(days, today)
    start = today if today in days else today - timedelta(days=1)
    naive = 0
    while start - timedelta(days=naive) in days:
        naive += 1
    assert found == naive


@given(st.integers(1, 7), st.integers(1, 14), day_sets)
@settings(max_examples=80)
def test_n_per_interval_counts_every_check_in_and_fills_complete_intervals(
    times: int, span: int, days: set[date]
) -> None:
    if times > span:
        times, span = span, times
    freq = h.Frequency(times, span)
    done = h.done_days(h.BOOLEAN, freq, dict.fromkeys(days, 1.0), None)
    assert days <= done
    # a window of `span` days holding `times` check-ins is done throughout
    ordered = sorted(days)
    for i in range(times - 1, len(ordered)):
        begin, last = ordered[i - times + 1], ordered[i]
        if (last - begin).days < span and times > 1:
            assert all(begin + timedelta(days=d) in done for d in range((last - begin).days + 1))
    if times == 1 and span == 1:
        assert done == days


def test_three_times_a_week() -> None:
    freq = h.Frequency(3, 7)
    checked = {date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 9)}
    done = h.done_days(h.BOOLEAN, freq, dict.fromkeys(checked, 1.0), None)
    # the interval starts at the oldest of the three and lasts a week
    assert done == {date(2026, 1, 5) + timedelta(days=k) for k in range(7)}
    two = h.done_days(h.BOOLEAN, freq, dict.fromkeys(sorted(checked)[:2], 1.0), None)
    assert two == set(sorted(checked)[:2])  # two of three: no interval


def test_streaks_cross_month_and_year_ends() -> None:
    days = {date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)}
    assert h.current_streak(days, date(2026, 2, 2)) == 4
    leap = {date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)}
    assert h.best_streak(leap) == 3
    year = {date(2026, 12, 31), date(2027, 1, 1)}
    assert h.current_streak(year, date(2027, 1, 2)) == 2  # today not over yet
    assert h.current_streak(year, date(2027, 1, 3)) == 0


def test_numeric_habits_meet_their_target_over_the_interval() -> None:
    daily = h.done_days(h.NUMERIC, DAILY, {DAY0: 5.0, DAY0 + timedelta(days=1): 2.0}, 5.0)
    assert daily == {DAY0}
    weekly = h.Frequency(1, 7)
    values = {DAY0 + timedelta(days=k): 10.0 for k in (0, 2, 4)}
    done = h.done_days(h.NUMERIC, weekly, values, 30.0)
    assert min(done) == DAY0 + timedelta(days=4)
    assert max(done) == DAY0 + timedelta(days=6)  # the week holding all three still adds up
    assert h.strength(h.NUMERIC, DAILY, {DAY0: 2.5}, 5.0, DAY0) == h.next_score(1.0, 0.0, 0.5)


@given(day_sets, st.integers(1, 7))
@settings(max_examples=60)
def test_strength_stays_within_zero_and_one_and_grows_with_a_check_in(
    days: set[date], span: int
) -> None:
    freq = h.Frequency(1, span)
    today = DAY0 + timedelta(days=125)
    values = dict.fromkeys(days, 1.0)
    score = h.strength(h.BOOLEAN, freq, values, None, today)
    assert 0.0 <= score <= 1.0
    more = h.strength(h.BOOLEAN, freq, {**values, today: 1.0}, None, today)
    assert more >= score - 1e-12


def test_a_check_in_late_at_night_in_madrid_is_that_days() -> None:
    at = datetime(2026, 12, 2, 23, 30, tzinfo=h_zone("Europe/Madrid"))
    assert at.astimezone(UTC).date() == date(2026, 12, 2)  # 22:30 UTC: same day in UTC
    summer = datetime(2026, 7, 31, 23, 30, tzinfo=h_zone("Europe/Madrid"))  # 21:30 UTC
    assert checkin_day("Europe/Madrid", summer, at=summer.isoformat()) == date(2026, 7, 31)
    # 00:30 in Madrid on 1 January is still 31 December in UTC
    new_year = "2027-01-01T00:30:00+01:00"
    now = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert checkin_day("Europe/Madrid", now, at=new_year) == date(2027, 1, 1)
    assert checkin_day("UTC", now, at=new_year) == date(2026, 12, 31)
    # "today" is the habit's own: 23:30 UTC on 31 July is 1 August in Madrid
    late = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)
    assert checkin_day("Europe/Madrid", late) == date(2026, 8, 1)
    assert checkin_day("America/Los_Angeles", late) == date(2026, 7, 31)


def h_zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@given(
    st.sampled_from([(1, 1), (3, 7), (1, 7), (2, 3), (5, 30)]),
    st.dictionaries(st.integers(0, 400), st.integers(0, 5), max_size=60),
    st.booleans(),
    st.integers(0, 500),
)
@settings(max_examples=120)
def test_strength_in_steps_is_the_day_by_day_score(
    freq: tuple[int, int], offsets: dict[int, int], numeric: bool, k: int
) -> None:
    kind = h.NUMERIC if numeric else h.BOOLEAN
    frequency = h.Frequency(*freq) if not numeric else h.Frequency(1, freq[1])
    values = {DAY0 + timedelta(days=d): float(v) for d, v in offsets.items()}
    today = DAY0 + timedelta(days=k)
    daily = h.scores(kind, frequency, values, 3.0, today).get(today, 0.0)
    assert abs(h.strength(kind, frequency, values, 3.0, today) - daily) < 1e-9
