"""Actions with a due date as iCalendar (RFC 5545), written with `icalendar`: one all-day
VEVENT per action on its due date, so that any calendar application shows it; a done
action says so in its summary and carries COMPLETED-style status in its categories."""

from datetime import date, datetime, timedelta
from typing import Any

from tzzr.times import parse_rfc3339

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//TZZR//VISION BUILDER//EN"


def actions_ics(actions: list[dict[str, Any]], instance: str, title: str | None) -> bytes:
    """`actions` as `Visions.list_actions` answers them; those without `due` are left out."""
    from icalendar import Calendar, Event  # loads with a calendar, not with the server

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"TZZR {instance}: {title}" if title else f"TZZR {instance}: actions")
    for action in actions:
        if not action.get("due"):
            continue
        due = date.fromisoformat(action["due"])
        if due == date.max:  # no day after it to end on (writers refuse such dates now)
            continue
        event = Event()
        event.add("uid", f"action-{action['id']}@{instance}.tzzr")
        event.add("summary", ("Done: " if action["done"] else "") + action["title"])
        event.add("dtstart", due)
        event.add("dtend", due + timedelta(days=1))
        stamp: datetime = parse_rfc3339(action["updatedAt"])
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        if action.get("notes"):
            event.add("description", action["notes"])
        event.add("categories", ["done" if action["done"] else "open"])
        if action["done"] and action.get("doneAt"):
            event.add("x-tzzr-done-at", action["doneAt"])
        cal.add_component(event)
    return bytes(cal.to_ical())
