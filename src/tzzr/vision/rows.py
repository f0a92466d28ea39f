"""Rows as JSON (camelCase, RFC 3339 times, ISO dates), and the checks every writer shares."""

import functools
import math
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Connection, select

from tzzr.db.models import Entry
from tzzr.errors import InvalidInput
from tzzr.times import rfc3339_or_none

MAX_WEIGHT = 1_000_000.0
MAX_EVIDENCE = 50
VISION_STATES = ("active", "paused", "achieved", "abandoned")


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def vision_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "source": row.source,
        "leafIndex": row.leaf_index,
        "createdAt": rfc3339_or_none(row.created_at),
        "updatedAt": rfc3339_or_none(row.updated_at),
    }


def milestone_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "targetDate": iso(row.target_date),
        "weight": row.weight,
        "achieved": row.achieved_at is not None,
        "achievedAt": rfc3339_or_none(row.achieved_at),
        "leafIndex": row.achieved_leaf,
        "source": row.source,
        "createdAt": rfc3339_or_none(row.created_at),
        "updatedAt": rfc3339_or_none(row.updated_at),
    }


def action_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "notes": row.notes,
        "due": iso(row.due),
        "done": row.done_at is not None,
        "doneAt": rfc3339_or_none(row.done_at),
        "leafIndex": row.done_leaf,
        "weight": row.weight,
        "evidence": list(row.evidence or []),
        "source": row.source,
        "createdAt": rfc3339_or_none(row.created_at),
        "updatedAt": rfc3339_or_none(row.updated_at),
    }


def habit_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "target": row.target,
        "unit": row.unit,
        "times": row.times,
        "intervalDays": row.interval_days,
        "tz": row.tz,
        "archived": row.archived,
        "weight": row.weight,
        "source": row.source,
        "createdAt": rfc3339_or_none(row.created_at),
        "updatedAt": rfc3339_or_none(row.updated_at),
    }


def checkin_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "day": row.day.isoformat(),
        "value": row.value,
        "note": row.note,
        "evidence": list(row.evidence or []),
        "leafIndex": row.leaf_index,
        "createdAt": rfc3339_or_none(row.created_at),
    }


def key_result_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "unit": row.unit,
        "startValue": row.start_value,
        "targetValue": row.target_value,
        "weight": row.weight,
        "source": row.source,
        "createdAt": rfc3339_or_none(row.created_at),
        "updatedAt": rfc3339_or_none(row.updated_at),
    }


def text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    found: str = value.strip() if required else value
    if required and not found:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(found) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return found


def weight(value: Any, field: str = "weight") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a number", field=field)
    if not 0 < value <= MAX_WEIGHT:
        raise InvalidInput(f"{field} must be above 0 and at most {MAX_WEIGHT:g}", field=field)
    return float(value)


def number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number", field=field)
    if abs(value) > 1e15:
        raise InvalidInput(f"{field} must be within ±1e15", field=field)
    return float(value)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def zone(name: Any, field: str = "tz") -> str:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise InvalidInput(f"{field} must be an IANA time zone such as Europe/Madrid", field=field)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{field}: {name!r} is not an IANA time zone (such as Europe/Madrid or UTC)",
            field=field,
        ) from exc
    if name not in _zones():
        raise InvalidInput(f"{field}: {name!r} is not an IANA time zone", field=field)
    return name


def source(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(
            "source must be an object naming where the item came from", field="source"
        )
    return value


def evidence(conn: Connection, h_instancia: str, value: Any, field: str = "evidence") -> list[str]:
    """A list of the instance's `h_entrada`; 422 naming the first that is not one."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{field} must be a list of h_entrada", field=field)
    if len(value) > MAX_EVIDENCE:
        raise InvalidInput(f"{field} holds at most {MAX_EVIDENCE} entries", field=field)
    wanted = []
    for k, item in enumerate(value):
        if not isinstance(item, str) or len(item) != 64 or item.strip("0123456789abcdef"):
            raise InvalidInput(
                f"{field}[{k}] must be an entry's h_entrada (64 lowercase hex digits)",
                field=f"{field}[{k}]",
            )
        if item not in wanted:
            wanted.append(item)
    if wanted:
        found = set(
            conn.execute(
                select(Entry.h_entrada).where(
                    Entry.h_instancia == h_instancia, Entry.h_entrada.in_(wanted)
                )
            ).scalars()
        )
        for k, item in enumerate(value):
            if item not in found:
                raise InvalidInput(
                    f"{field}[{k}]: no entry {item} in this instance", field=f"{field}[{k}]"
                )
    return wanted
