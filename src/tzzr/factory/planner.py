"""The deterministic planner: THE FACTORY's first decomposition when no language model is
configured, so the feature works on a fresh install. It is labelled as such wherever its
output is shown. The same goal, constraints and start date always give the same draft.

A goal written as steps (lines, bullets, numbers, "; " or " then ") gives a milestone a
step; any other goal gets four phases (define, plan, do, review). Each milestone gets its
actions, and the dates are spread evenly from the start to the deadline (twelve weeks
when none is given)."""

import re
from datetime import date, timedelta
from typing import Any

DEFAULT_WEEKS = 12
_STEP_SPLIT = re.compile(r"\n+|;\s+|\.\s+|\s+then\s+", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")

PHASES = (
    (
        "Define what {goal} means and how to measure it",
        ("Write the outcome down in one sentence", "Choose one measure of progress"),
    ),
    (
        "Plan the steps toward {goal}",
        ("List the steps and what each one needs", "Put dates on the first three steps"),
    ),
    (
        "Do the main work on {goal}",
        ("Block time for it every week", "Finish the first step", "Finish the remaining steps"),
    ),
    (
        "Review {goal} and adjust",
        ("Compare the result with the measure", "Decide what to keep and what to change"),
    ),
)
STEP_ACTIONS = ("Break “{step}” into its first step", "Do “{step}”", "Check “{step}” is done")


def _short(text: str, limit: int = 80) -> str:
    words = " ".join(text.split())
    if len(words) <= limit:
        return words.rstrip(".")
    return words[: limit - 1].rsplit(" ", 1)[0] + "…"


def steps_of(goal: str) -> list[str]:
    """The goal's own steps, when it is written as several (else [])."""
    parts = [_BULLET.sub("", p).strip(" .") for p in _STEP_SPLIT.split(goal)]
    parts = [p for p in parts if len(p) >= 3]
    return parts if len(parts) >= 2 else []


def _spread(start: date, end: date, count: int) -> list[date]:
    """`count` dates from `start` to `end` (the last one), evenly spaced; close dates
    share a day rather than pass `end`."""
    span = max((end - start).days, 0)
    return [start + timedelta(days=round(span * (k + 1) / count)) for k in range(count)]


def plan(
    goal: str,
    start: date,
    deadline: date | None = None,
    max_milestones: int = 6,
    actions_per_milestone: int = 3,
) -> list[dict[str, Any]]:
    """Milestones and actions (drafts.py's items) for `goal`."""
    end = deadline or start + timedelta(weeks=DEFAULT_WEEKS)
    steps = steps_of(goal)[:max_milestones]
    titled: list[tuple[str, tuple[str, ...]]]
    if steps:
        titled = [
            (_short(step).capitalize() if step[:1].islower() else _short(step), STEP_ACTIONS)
            for step in steps
        ]
    else:
        short = _short(goal, 60)
        quoted = f"“{short}”"
        titled = [(title.format(goal=quoted), actions) for title, actions in PHASES]
        titled = titled[:max_milestones]
    targets = _spread(start, end, len(titled))
    items: list[dict[str, Any]] = []
    number = 0
    previous = start
    for (title, actions), target in zip(titled, targets, strict=True):
        number += 1
        milestone_id = f"m{number}"
        items.append(
            {
                "id": milestone_id,
                "kind": "milestone",
                "title": title[:200],
                "description": "",
                "targetDate": target.isoformat(),
                "weight": 1.0,
            }
        )
        chosen = actions[:actions_per_milestone]
        for action, due in zip(chosen, _spread(previous, target, len(chosen)), strict=True):
            number += 1
            step = title if steps else ""
            items.append(
                {
                    "id": f"a{number}",
                    "kind": "action",
                    "milestone": milestone_id,
                    "title": action.format(step=_short(step, 60))[:200],
                    "due": min(due, target).isoformat(),
                    "weight": 1.0,
                }
            )
        previous = target
    return items


def revise(
    items: list[dict[str, Any]], notes: list[dict[str, str]], deadline: date | None
) -> list[dict[str, Any]]:
    """The deterministic answer to a critique: dates past the deadline moved to it, an
    action due after its milestone moved to the milestone's date, a milestone with no
    action given one. Ids are kept; new actions get new ids."""
    flagged = {n["item"] for n in notes}
    targets = {i["id"]: i.get("targetDate") for i in items if i["kind"] == "milestone"}
    out: list[dict[str, Any]] = []
    highest = max((int(i["id"][1:]) for i in items if i["id"][1:].isdigit()), default=0)
    for item in items:
        item = dict(item)
        key = "targetDate" if item["kind"] == "milestone" else "due"
        if item["id"] in flagged:
            when = item.get(key)
            if deadline is not None and (when is None or date.fromisoformat(when) > deadline):
                item[key] = deadline.isoformat()
            parent = targets.get(item.get("milestone", ""))
            if item["kind"] == "action" and parent and (item.get(key) or "") > parent:
                item[key] = parent
        out.append(item)
        if item["kind"] == "milestone":
            targets[item["id"]] = item.get("targetDate")
    for item in list(out):
        if item["kind"] == "milestone" and not any(
            a["kind"] == "action" and a.get("milestone") == item["id"] for a in out
        ):
            highest += 1
            at = out.index(item) + 1
            out.insert(
                at,
                {
                    "id": f"a{highest}",
                    "kind": "action",
                    "milestone": item["id"],
                    "title": f"Take the first step toward “{_short(item['title'], 60)}”"[:200],
                    "due": item.get("targetDate"),
                    "weight": 1.0,
                },
            )
    return out
