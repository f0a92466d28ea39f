"""Habits and their check-ins in the database (a part of `tzzr.vision.service.Visions`).

A check-in's day is the habit's own: a moment is read in the habit's time zone (23:30 in
Europe/Madrid is that day there, whatever the UTC date). One check-in per habit and day;
each is sealed as a `vision` leaf."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import Habit, HabitCheckin, MilestoneHabit
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.vision import habits as arithmetic
from tzzr.vision import rows as r
from tzzr.vision.store import FIRST_DAY, Store

MAX_INTERVAL_DAYS = 366
MAX_GRID_DAYS = 400
# Strength is computed day by day from the first check-in: a check-in in year 1 would
# make every read walk 740,000 days (FIRST_DAY is 1970-01-01).


def habit_today(tz: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def checkin_day(tz: str, now: datetime, day: Any = None, at: Any = None) -> date:
    """The day a check-in is for: `day` as given, or the moment `at` (RFC 3339, or an aware
    datetime) read in the habit's zone, or today there."""
    if day is not None and at is not None:
        raise InvalidInput("send either day or at, not both", field="day")
    if day is not None:
        if isinstance(day, date) and not isinstance(day, datetime):
            return day
        try:
            return date.fromisoformat(str(day))
        except ValueError as exc:
            raise InvalidInput("day must be a date such as 2026-12-31", field="day") from exc
    if at is not None:
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError as exc:
                raise InvalidInput(
                    "at must be an RFC 3339 moment such as 2026-12-02T23:30:00+01:00", field="at"
                ) from exc
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise InvalidInput("at must carry its offset or Z", field="at")
        try:
            return at.astimezone(ZoneInfo(tz)).date()
        except OverflowError as exc:  # 9999-12-31T23:00Z in a zone ahead of UTC
            raise InvalidInput(
                "at is past year 9999 in the habit's zone: send a moment of this era",
                field="at",
            ) from exc
    return habit_today(tz, now)


def habit_values(changes: dict[str, Any], current: Any | None) -> dict[str, Any]:
    """The columns of a habit from a new habit's fields or a change's, checked together."""

    def pick(name: str, default: Any) -> Any:
        return changes.get(name, default)

    kind = pick("kind", current.kind if current else arithmetic.BOOLEAN)
    if kind not in arithmetic.KINDS:
        raise InvalidInput("kind must be boolean (yes/no) or numeric", field="kind")
    times = pick("times", current.times if current else 1)
    days = pick("interval_days", current.interval_days if current else 1)
    for name, value, top in (
        ("times", times, MAX_INTERVAL_DAYS),
        ("intervalDays", days, MAX_INTERVAL_DAYS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise InvalidInput(f"{name} must be a whole number from 1 to {top}", field=name)
    if times > days:
        raise InvalidInput("times must be at most intervalDays", field="times")
    target = pick("target", current.target if current else None)
    unit = pick("unit", current.unit if current else None)
    if kind == arithmetic.NUMERIC:
        if target is None:
            raise InvalidInput("a numeric habit needs a target (per interval)", field="target")
        target = r.number(target, "target")
        if target <= 0:
            raise InvalidInput("target must be above 0", field="target")
        if times != 1:
            raise InvalidInput(
                "a numeric habit's target is per interval: times must be 1", field="times"
            )
        unit = None if unit is None else r.text(unit, "unit", 32, required=False)
    else:
        target = None
        unit = None
    values: dict[str, Any] = {
        "kind": kind,
        "times": times,
        "interval_days": days,
        "target": target,
        "unit": unit,
    }
    if "name" in changes or current is None:
        values["name"] = r.text(pick("name", None), "name", 200)
    if "description" in changes or current is None:
        values["description"] = r.text(
            pick("description", ""), "description", 20_000, required=False
        )
    if "tz" in changes or current is None:
        values["tz"] = r.zone(pick("tz", "UTC"))
    if "archived" in changes or current is None:
        archived = pick("archived", False)
        if not isinstance(archived, bool):
            raise InvalidInput("archived must be true or false", field="archived")
        values["archived"] = archived
    if "weight" in changes or current is None:
        values["weight"] = r.weight(pick("weight", 1.0))
    return values


def checkin_record(
    habit_id: int, day: date, value: float, evidence: list[str]
) -> tuple[str, dict[str, Any]]:
    """A check-in's leaf: its ref (the habit and the day) and the record it seals."""
    record = {"habit": habit_id, "day": day.isoformat(), "value": value, "evidence": evidence}
    return f"habit/{habit_id}/day/{day.isoformat()}", record


HABIT_FIELDS = frozenset(
    {
        "name",
        "description",
        "kind",
        "target",
        "unit",
        "times",
        "interval_days",
        "tz",
        "archived",
        "weight",
    }
)


class HabitStore(Store):
    """Habits and check-ins (a part of `Visions`)."""

    # -- habits ------------------------------------------------------------------
    def create_habit(
        self,
        h_instancia: str,
        name: str,
        *,
        kind: str = arithmetic.BOOLEAN,
        times: int = 1,
        interval_days: int = 1,
        target: float | None = None,
        unit: str | None = None,
        tz: str = "UTC",
        description: str = "",
        archived: bool = False,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        milestone_ids: list[int] | None = None,
    ) -> int:
        values = habit_values(
            {
                "name": name,
                "kind": kind,
                "times": times,
                "interval_days": interval_days,
                "target": target,
                "unit": unit,
                "tz": tz,
                "description": description,
                "archived": archived,
                "weight": weight,
            },
            None,
        )
        now = self.clock()
        with write_transaction(self._engine) as conn:
            habit_id = self.insert_habit(conn, h_instancia, values, r.source(source), now)
            self._link_all(conn, h_instancia, "milestone", milestone_ids or [], "habit", habit_id)
        return habit_id

    def insert_habit(
        self,
        conn: Connection,
        h_instancia: str,
        values: dict[str, Any],
        source: dict[str, Any] | None,
        now: datetime,
    ) -> int:
        habit_id = int(
            conn.execute(
                insert(Habit)
                .values(
                    h_instancia=h_instancia,
                    source=source,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
                .returning(Habit.id)
            ).scalar_one()
        )
        self._emit(conn, h_instancia, f"habit/{habit_id}", "habit.created", now)
        return habit_id

    def _habit_row(self, conn: Connection, h_instancia: str, habit_id: int) -> Any:
        row = conn.execute(
            select(Habit).where(Habit.h_instancia == h_instancia, Habit.id == habit_id)
        ).first()
        if row is None:
            raise NotFound(f"no habit {habit_id}")
        return row

    def _habit_stats(
        self, conn: Connection, habits: Sequence[Any], days: int
    ) -> dict[int, dict[str, Any]]:
        """Per habit: today (its zone), streaks, strength, check-in count and, for
        `days` > 0, the last `days` days (oldest first) as {day, value, done}."""
        ids = [h.id for h in habits]
        values: dict[int, dict[date, float]] = {i: {} for i in ids}
        checkin_ids: dict[tuple[int, date], int] = {}
        if ids:
            for checkin_id, habit_id, day, value in conn.execute(
                select(
                    HabitCheckin.id, HabitCheckin.habit_id, HabitCheckin.day, HabitCheckin.value
                ).where(HabitCheckin.habit_id.in_(ids))
            ).all():
                values[habit_id][day] = value
                checkin_ids[(habit_id, day)] = checkin_id
        now = self.clock()
        out = {}
        for h in habits:
            today = habit_today(h.tz, now)
            freq = arithmetic.Frequency(h.times, h.interval_days)
            done = arithmetic.done_days(h.kind, freq, values[h.id], h.target)
            stats: dict[str, Any] = {
                "today": today.isoformat(),
                "currentStreak": arithmetic.current_streak(done, today),
                "bestStreak": arithmetic.best_streak(done),
                "strength": round(
                    arithmetic.strength(h.kind, freq, values[h.id], h.target, today), 6
                ),
                "checkinCount": len(values[h.id]),
            }
            if days > 0:
                stats["recent"] = [
                    {
                        "day": d.isoformat(),
                        "value": values[h.id].get(d),
                        "checkinId": checkin_ids.get((h.id, d)),
                        "done": d in done,
                    }
                    for d in (today - timedelta(days=k) for k in range(days - 1, -1, -1))
                ]
            out[h.id] = stats
        return out

    def get_habit(self, h_instancia: str, habit_id: int, days: int = 28) -> dict[str, Any]:
        days = self._grid_days(days)
        with self._engine.connect() as conn:
            row = self._habit_row(conn, h_instancia, habit_id)
            item = {**r.habit_json(row), **self._habit_stats(conn, [row], days)[row.id]}
            item["milestoneIds"] = list(
                conn.execute(
                    select(MilestoneHabit.milestone_id)
                    .where(MilestoneHabit.habit_id == habit_id)
                    .order_by(MilestoneHabit.milestone_id)
                ).scalars()
            )
        return item

    @staticmethod
    def _grid_days(days: int) -> int:
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_GRID_DAYS:
            raise InvalidInput(f"days must be from 0 to {MAX_GRID_DAYS}", field="days")
        return days

    def list_habits(
        self, h_instancia: str, *, archived: bool | None = False, days: int = 28
    ) -> list[dict[str, Any]]:
        days = self._grid_days(days)
        query = select(Habit).where(Habit.h_instancia == h_instancia)
        if archived is not None:
            query = query.where(Habit.archived == archived)
        with self._engine.connect() as conn:
            found = conn.execute(query.order_by(Habit.id).limit(1000)).all()
            stats = self._habit_stats(conn, found, days)
        return [{**r.habit_json(row), **stats[row.id]} for row in found]

    def update_habit(
        self, h_instancia: str, habit_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        renamed = {("interval_days" if k == "intervalDays" else k): v for k, v in changes.items()}
        for name in renamed:
            if name not in HABIT_FIELDS:
                raise InvalidInput(f"a habit has no field {name!r} to change", field=name)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = self._habit_row(conn, h_instancia, habit_id)
            values = habit_values(renamed, row)
            conn.execute(update(Habit).where(Habit.id == habit_id).values(**values, updated_at=now))
            self._emit(
                conn,
                h_instancia,
                f"habit/{habit_id}",
                "habit.updated",
                now,
                {"fields": sorted(renamed)},
            )
        return self.get_habit(h_instancia, habit_id)

    def delete_habit(self, h_instancia: str, habit_id: int) -> None:
        """The habit, its links and its check-ins (their leaves stay in the log)."""
        now = self.clock()
        with write_transaction(self._engine) as conn:
            self._habit_row(conn, h_instancia, habit_id)
            conn.execute(delete(MilestoneHabit).where(MilestoneHabit.habit_id == habit_id))
            conn.execute(delete(HabitCheckin).where(HabitCheckin.habit_id == habit_id))
            conn.execute(delete(Habit).where(Habit.id == habit_id))
            self._emit(conn, h_instancia, f"habit/{habit_id}", "habit.deleted", now)

    # -- check-ins ---------------------------------------------------------------
    def checkin(
        self,
        h_instancia: str,
        habit_id: int,
        *,
        day: date | str | None = None,
        at: datetime | str | None = None,
        value: float | None = None,
        note: str = "",
        evidence: list[str] | None = None,
    ) -> dict[str, Any]:
        """Check in a habit for a day (see `checkin_day`): value 1 for a yes/no habit (the
        default), the amount for a numeric one. 409 when that day has one already; 422
        for a day after today in the habit's zone."""
        note = r.text(note, "note", 5000, required=False)
        now = self.clock()
        try:
            with write_transaction(self._engine) as conn:
                row = self._habit_row(conn, h_instancia, habit_id)
                when = checkin_day(row.tz, now, day, at)
                if when > habit_today(row.tz, now):
                    raise InvalidInput(
                        f"{when.isoformat()} has not begun yet in {row.tz}", field="day"
                    )
                if when < FIRST_DAY:
                    raise InvalidInput(
                        f"a check-in's day is {FIRST_DAY.isoformat()} or later", field="day"
                    )
                amount = self._checkin_value(row, value)
                proof = r.evidence(conn, h_instancia, evidence)
                return self.insert_checkin(
                    conn, h_instancia, row.id, when, amount, note, proof, now
                )
        except IntegrityError as exc:
            raise Conflict(
                f"habit {habit_id} already has a check-in on that day; delete it to change it"
            ) from exc

    @staticmethod
    def _checkin_value(row: Any, value: Any) -> float:
        if row.kind == arithmetic.BOOLEAN:
            if value is not None and value != 1:
                raise InvalidInput("a yes/no habit's check-in has value 1 (or none)", field="value")
            return 1.0
        if value is None:
            raise InvalidInput(
                f"a numeric habit's check-in needs a value ({row.unit or 'amount'})", field="value"
            )
        amount = r.number(value, "value")
        if amount < 0:
            raise InvalidInput("value must not be negative", field="value")
        return amount

    def insert_checkin(
        self,
        conn: Connection,
        h_instancia: str,
        habit_id: int,
        when: date,
        amount: float,
        note: str,
        proof: list[str],
        now: datetime,
    ) -> dict[str, Any]:
        there = conn.execute(
            select(HabitCheckin.id).where(
                HabitCheckin.habit_id == habit_id, HabitCheckin.day == when
            )
        ).first()
        if there is not None:
            raise Conflict(
                f"habit {habit_id} already has a check-in on {when.isoformat()} "
                f"(check-in {there.id}); delete it to change it"
            )
        ref, record = checkin_record(habit_id, when, amount, proof)
        leaf = self._seal(conn, h_instancia, ref, record, "habit.checkin", now)
        checkin_id = int(
            conn.execute(
                insert(HabitCheckin)
                .values(
                    h_instancia=h_instancia,
                    habit_id=habit_id,
                    day=when,
                    value=amount,
                    note=note,
                    evidence=proof,
                    leaf_index=leaf,
                    created_at=now,
                )
                .returning(HabitCheckin.id)
            ).scalar_one()
        )
        self._emit(
            conn,
            h_instancia,
            f"habit/{habit_id}",
            "habit.checkin",
            now,
            {"checkin": checkin_id, "day": when.isoformat(), "leafIndex": leaf},
        )
        found = conn.execute(select(HabitCheckin).where(HabitCheckin.id == checkin_id)).one()
        return r.checkin_json(found)

    def insert_checkins(
        self,
        conn: Connection,
        h_instancia: str,
        habit_id: int,
        items: list[tuple[date, float, str]],
        now: datetime,
    ) -> int:
        """Many (day, value, note) check-ins of one habit, days it has none of yet (an
        import): one leaf reservation, one bulk insert, one event. How many."""
        if not items:
            return 0
        first = self._seal_all(
            conn,
            h_instancia,
            [checkin_record(habit_id, day, value, []) for day, value, _ in items],
            "habit.checkin",
            now,
        )
        conn.execute(
            insert(HabitCheckin),
            [
                {
                    "h_instancia": h_instancia,
                    "habit_id": habit_id,
                    "day": day,
                    "value": value,
                    "note": note,
                    "evidence": [],
                    "leaf_index": first + k,
                    "created_at": now,
                }
                for k, (day, value, note) in enumerate(items)
            ],
        )
        self._emit(
            conn,
            h_instancia,
            f"habit/{habit_id}",
            "habit.imported",
            now,
            {"checkins": len(items), "firstLeaf": first, "lastLeaf": first + len(items) - 1},
        )
        return len(items)

    def checkins(
        self,
        h_instancia: str,
        habit_id: int,
        since: date | None = None,
        until: date | None = None,
    ) -> list[dict[str, Any]]:
        query = select(HabitCheckin).where(
            HabitCheckin.habit_id == habit_id, HabitCheckin.h_instancia == h_instancia
        )
        if since is not None:
            query = query.where(HabitCheckin.day >= since)
        if until is not None:
            query = query.where(HabitCheckin.day <= until)
        with self._engine.connect() as conn:
            self._habit_row(conn, h_instancia, habit_id)
            found = conn.execute(query.order_by(HabitCheckin.day).limit(20_000)).all()
        return [r.checkin_json(row) for row in found]

    def _checkin_row(
        self, conn: Connection, h_instancia: str, habit_id: int, checkin_id: int
    ) -> Any:
        self._habit_row(conn, h_instancia, habit_id)
        row = conn.execute(
            select(HabitCheckin).where(
                HabitCheckin.id == checkin_id,
                HabitCheckin.habit_id == habit_id,
                HabitCheckin.h_instancia == h_instancia,
            )
        ).first()
        if row is None:
            raise NotFound(f"no check-in {checkin_id} of habit {habit_id}")
        return row

    def get_checkin(self, h_instancia: str, habit_id: int, checkin_id: int) -> dict[str, Any]:
        with self._engine.connect() as conn:
            return r.checkin_json(self._checkin_row(conn, h_instancia, habit_id, checkin_id))

    def delete_checkin(self, h_instancia: str, habit_id: int, checkin_id: int) -> None:
        """The check-in goes; its leaf stays in the log (the log is append-only)."""
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = self._checkin_row(conn, h_instancia, habit_id, checkin_id)
            conn.execute(delete(HabitCheckin).where(HabitCheckin.id == checkin_id))
            self._emit(
                conn,
                h_instancia,
                f"habit/{habit_id}",
                "habit.checkin_deleted",
                now,
                {"checkin": checkin_id, "day": row.day.isoformat()},
            )
