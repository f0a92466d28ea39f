"""A draft of THE FACTORY for a vision: milestones and the actions under them, as items
with stable ids (`m1`, `a3`: an item keeps its id through every round that keeps it),
the diff between two drafts, and the checks every draft gets (the deterministic half of
each round's critique)."""

from datetime import date
from typing import Any

from tzzr.vision.store import in_range

MAX_ITEMS = 60
TITLE = 200
DETERMINISTIC = "deterministic planner"

# What a model is asked to answer (llama.cpp turns it into a grammar: the bounds keep
# even a random model's answer finite).
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 400},
        "milestones": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "maxLength": 8},
                    "title": {"type": "string", "minLength": 1, "maxLength": 120},
                    "targetDate": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                    # an integer: a grammar bounds its range (llama.cpp does not for numbers)
                    "weight": {"type": "integer", "minimum": 1, "maximum": 10},
                    "actions": {
                        "type": "array",
                        "maxItems": 6,
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string", "maxLength": 8},
                                "title": {"type": "string", "minLength": 1, "maxLength": 120},
                                "due": {
                                    "type": "string",
                                    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                                },
                            },
                            "required": ["id", "title", "due"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["id", "title", "targetDate", "weight", "actions"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["summary", "milestones"],
    "additionalProperties": False,
}

CRITIQUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "notes": {
            "type": "array",
            "maxItems": 12,
            "items": {
                "type": "object",
                "properties": {
                    "item": {"type": "string", "maxLength": 8},
                    "issue": {"type": "string", "minLength": 1, "maxLength": 300},
                },
                "required": ["item", "issue"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["notes"],
    "additionalProperties": False,
}

FIELDS = ("kind", "title", "description", "milestone", "targetDate", "due", "weight")


def _date_or_none(value: Any) -> str | None:
    """A model's date, or None for one that is not a date or is outside the days a
    vision's rows may name (an accepted 9999-12-31 would break the calendar)."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day.isoformat() if in_range(day) else None


def _title(value: Any) -> str:
    return " ".join(str(value or "").split())[:TITLE] or "(untitled)"


def from_answer(answer: dict[str, Any], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A model's answer (DRAFT_SCHEMA) as items. An id the previous draft used for an
    item of the same kind is kept; any other item gets a new one (ids are never reused
    for something else)."""
    known = {item["id"]: item["kind"] for item in previous}
    used = set(known)
    counter = [_highest(previous)]

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def pick(wanted: Any, kind: str, prefix: str) -> str:
        if isinstance(wanted, str) and known.get(wanted) == kind and wanted not in taken:
            taken.add(wanted)
            return wanted
        new = fresh(prefix)
        while new in used:
            new = fresh(prefix)
        taken.add(new)
        return new

    taken: set[str] = set()
    items: list[dict[str, Any]] = []
    for milestone in answer.get("milestones", []):
        mid = pick(milestone.get("id"), "milestone", "m")
        weight = milestone.get("weight")
        items.append(
            {
                "id": mid,
                "kind": "milestone",
                "title": _title(milestone.get("title")),
                "description": "",
                "targetDate": _date_or_none(milestone.get("targetDate")),
                "weight": float(weight) if isinstance(weight, int | float) and weight > 0 else 1.0,
            }
        )
        for action in milestone.get("actions", []):
            items.append(
                {
                    "id": pick(action.get("id"), "action", "a"),
                    "kind": "action",
                    "milestone": mid,
                    "title": _title(action.get("title")),
                    "due": _date_or_none(action.get("due")),
                    "weight": 1.0,
                }
            )
        if len(items) >= MAX_ITEMS:
            break
    return items[:MAX_ITEMS]


def _highest(items: list[dict[str, Any]]) -> int:
    numbers = [int(i["id"][1:]) for i in items if i["id"][1:].isdigit()]
    return max(numbers, default=0)


def as_answer(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Items in the nested shape a model reads and answers (DRAFT_SCHEMA)."""
    milestones = []
    for item in items:
        if item["kind"] == "milestone":
            milestones.append(
                {
                    "id": item["id"],
                    "title": item["title"],
                    "targetDate": item.get("targetDate") or "",
                    "weight": item.get("weight", 1.0),
                    "actions": [
                        {"id": a["id"], "title": a["title"], "due": a.get("due") or ""}
                        for a in items
                        if a["kind"] == "action" and a.get("milestone") == item["id"]
                    ],
                }
            )
    return {"milestones": milestones}


def diff(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any]:
    """Added and removed item ids, and each kept item's changed fields [old, new]."""
    old = {i["id"]: i for i in before}
    new = {i["id"]: i for i in after}
    changed = []
    for item_id, item in new.items():
        if item_id in old:
            fields = {
                f: [old[item_id].get(f), item.get(f)]
                for f in FIELDS
                if old[item_id].get(f) != item.get(f)
            }
            if fields:
                changed.append({"id": item_id, "fields": fields})
    return {
        "added": [i for i in new if i not in old],
        "removed": [i for i in old if i not in new],
        "changed": changed,
        "kept": sum(1 for i in new if i in old),
    }


def check(items: list[dict[str, Any]], deadline: date | None) -> list[dict[str, str]]:
    """The notes every draft gets: dates past the deadline or out of order, milestones
    with no action, repeated titles, actions due after their milestone."""
    notes: list[dict[str, str]] = []
    milestones = {i["id"]: i for i in items if i["kind"] == "milestone"}
    seen: dict[str, str] = {}
    for item in items:
        key = item["title"].casefold()
        if key in seen:
            notes.append({"item": item["id"], "issue": f"repeats the title of {seen[key]}"})
        seen.setdefault(key, item["id"])
        when = item.get("targetDate") if item["kind"] == "milestone" else item.get("due")
        if when is None:
            notes.append({"item": item["id"], "issue": "has no date"})
        elif deadline is not None and date.fromisoformat(when) > deadline:
            notes.append(
                {"item": item["id"], "issue": f"is dated {when}, after the deadline {deadline}"}
            )
        if item["kind"] == "action":
            parent = milestones.get(item.get("milestone", ""))
            if parent is None:
                notes.append({"item": item["id"], "issue": "belongs to no milestone"})
            elif when and parent.get("targetDate") and when > parent["targetDate"]:
                notes.append(
                    {
                        "item": item["id"],
                        "issue": f"is due {when}, after its milestone {parent['id']} "
                        f"({parent['targetDate']})",
                    }
                )
    for mid in milestones:
        if not any(i["kind"] == "action" and i.get("milestone") == mid for i in items):
            notes.append({"item": mid, "issue": "has no action"})
    return notes
