"""The deterministic planner and drafts: decompositions, dates, stable ids, diffs, checks."""

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tzzr.factory import drafts, planner

START = date(2027, 1, 1)


def test_a_plain_goal_gets_four_phases_with_actions_spread_to_the_deadline() -> None:
    items = planner.plan("Run a marathon in under four hours", START, date(2027, 6, 30))
    milestones = [i for i in items if i["kind"] == "milestone"]
    assert [m["id"] for m in milestones] == ["m1", "m4", "m7", "m11"]
    assert milestones[0]["title"].startswith("Define what “Run a marathon")
    assert milestones[-1]["targetDate"] == "2027-06-30"
    assert [m["targetDate"] for m in milestones] == sorted(m["targetDate"] for m in milestones)
    actions = [i for i in items if i["kind"] == "action"]
    assert {a["milestone"] for a in actions} == {m["id"] for m in milestones}
    assert drafts.check(items, date(2027, 6, 30)) == []


def test_a_goal_written_as_steps_gets_a_milestone_a_step() -> None:
    goal = "- learn the chords\n- write three songs\n- play an open mic"
    items = planner.plan(goal, START, None, actions_per_milestone=2)
    titles = [i["title"] for i in items if i["kind"] == "milestone"]
    assert titles == ["Learn the chords", "Write three songs", "Play an open mic"]
    assert items[1] == {
        "id": "a2",
        "kind": "action",
        "milestone": "m1",
        "title": "Break “Learn the chords” into its first step",
        "due": items[1]["due"],
        "weight": 1.0,
    }
    # no deadline: twelve weeks
    assert items[-3]["targetDate"] == (START + timedelta(weeks=12)).isoformat()


def test_the_planner_is_deterministic_and_bounded() -> None:
    first = planner.plan("a; b c; d e f; g h; i j; k l; m n; o p", START, None, 3, 1)
    assert first == planner.plan("a; b c; d e f; g h; i j; k l; m n; o p", START, None, 3, 1)
    assert sum(1 for i in first if i["kind"] == "milestone") == 3
    assert sum(1 for i in first if i["kind"] == "action") == 3


@settings(max_examples=60, deadline=None)
@given(
    goal=st.text(min_size=1, max_size=300),
    days=st.integers(min_value=1, max_value=3000),
    most=st.integers(min_value=1, max_value=8),
    per=st.integers(min_value=1, max_value=6),
)
def test_any_goal_gives_a_draft_that_passes_the_checks(
    goal: str, days: int, most: int, per: int
) -> None:
    deadline = START + timedelta(days=days)
    items = planner.plan(goal, START, deadline, most, per)
    assert 1 <= sum(1 for i in items if i["kind"] == "milestone") <= most
    assert len({i["id"] for i in items}) == len(items)
    dates = [date.fromisoformat(i.get("targetDate") or i["due"]) for i in items]
    assert all(START <= d <= deadline for d in dates)
    notes = drafts.check(items, deadline)
    assert all(n["issue"].startswith("repeats the title") for n in notes), notes


def test_checks_and_the_planner_revision() -> None:
    items: list[dict[str, Any]] = [
        {"id": "m1", "kind": "milestone", "title": "A", "targetDate": "2027-03-01", "weight": 1.0},
        {"id": "a2", "kind": "action", "milestone": "m1", "title": "x", "due": "2027-04-01"},
        {"id": "m3", "kind": "milestone", "title": "B", "targetDate": "2027-09-01", "weight": 1.0},
    ]
    notes = drafts.check(items, date(2027, 6, 30))
    assert notes == [
        {"item": "a2", "issue": "is due 2027-04-01, after its milestone m1 (2027-03-01)"},
        {"item": "m3", "issue": "is dated 2027-09-01, after the deadline 2027-06-30"},
        {"item": "m3", "issue": "has no action"},
    ]
    revised = planner.revise(items, notes, date(2027, 6, 30))
    assert [i["id"] for i in revised] == ["m1", "a2", "m3", "a4"]
    assert revised[1]["due"] == "2027-03-01" and revised[2]["targetDate"] == "2027-06-30"
    assert revised[3]["milestone"] == "m3" and revised[3]["due"] == "2027-06-30"
    assert drafts.check(revised, date(2027, 6, 30)) == []
    change = drafts.diff(items, revised)
    assert change["added"] == ["a4"] and change["removed"] == [] and change["kept"] == 3
    assert change["changed"] == [
        {"id": "a2", "fields": {"due": ["2027-04-01", "2027-03-01"]}},
        {"id": "m3", "fields": {"targetDate": ["2027-09-01", "2027-06-30"]}},
    ]


def test_a_models_answer_keeps_known_ids_and_never_reuses_one() -> None:
    previous = planner.plan("a; b", START, date(2027, 3, 1), 2, 1)  # m1 a2 m3 a4
    answer = {
        "summary": "",
        "milestones": [
            {"id": "m3", "title": "B first", "targetDate": "2027-02-01", "weight": 2,
             "actions": [{"id": "a4", "title": "do b", "due": "2027-01-20"}]},
            {"id": "a2", "title": "new one", "targetDate": "bad", "weight": 0,
             "actions": [{"id": "m3", "title": "dup", "due": "2027-02-10"}]},
        ],
    }  # fmt: skip
    items = drafts.from_answer(answer, previous)
    assert [(i["id"], i["kind"]) for i in items] == [
        ("m3", "milestone"),
        ("a4", "action"),
        ("m5", "milestone"),  # "a2" names an action: a milestone gets a new id
        ("a6", "action"),
    ]
    assert items[2]["targetDate"] is None and items[2]["weight"] == 1.0
    assert items[0]["weight"] == 2.0 and items[3]["milestone"] == "m5"
    change = drafts.diff(previous, items)
    assert change["removed"] == ["m1", "a2"] and change["added"] == ["m5", "a6"]
    nested = drafts.as_answer(items)
    assert nested["milestones"][0]["actions"] == [
        {"id": "a4", "title": "do b", "due": "2027-01-20"}
    ]
