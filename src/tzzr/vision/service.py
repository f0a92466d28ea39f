"""VISION BUILDER's service: visions, milestones, actions, key results, their links and
the tree with its progress; habits and check-ins live in `tzzr.vision.habit_store`
(mixed in here, so `services.visions` is one object).

Every method takes the instance's `h_instancia` and finds nothing of another instance
(NotFound). Every change is a SENTINEL event (kind `vision`) written in its transaction;
a vision's creation, a milestone achieved, an action done and every check-in are sealed
as `vision` ledger leaves in that same transaction (`leafIndex` in the answers).
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import (
    Action,
    Habit,
    HabitCheckin,
    KeyResult,
    KeyResultCheckin,
    Milestone,
    MilestoneAction,
    MilestoneHabit,
    MilestoneKeyResult,
    Vision,
    VisionMilestone,
)
from tzzr.errors import InvalidInput, NotFound
from tzzr.feldman.log import Ledger
from tzzr.sentinel.events import emit
from tzzr.validation import one_of
from tzzr.vision import progress
from tzzr.vision import rows as r
from tzzr.vision.habit_store import HabitStore

Clock = Callable[[], datetime]
LEAF_KIND = "vision"
# (parent kind, child kind) -> (link table, parent column, child column)
LINKS: dict[tuple[str, str], tuple[Any, str, str]] = {
    ("vision", "milestone"): (VisionMilestone, "vision_id", "milestone_id"),
    ("milestone", "action"): (MilestoneAction, "milestone_id", "action_id"),
    ("milestone", "habit"): (MilestoneHabit, "milestone_id", "habit_id"),
    ("milestone", "key_result"): (MilestoneKeyResult, "milestone_id", "key_result_id"),
}
TABLES: dict[str, Any] = {
    "vision": Vision,
    "milestone": Milestone,
    "action": Action,
    "habit": Habit,
    "key_result": KeyResult,
}
NAMES = {"vision": "vision", "milestone": "milestone", "action": "action", "habit": "habit"}
NAMES["key_result"] = "key result"


def get_row(conn: Connection, kind: str, h_instancia: str, object_id: int) -> Any:
    table = TABLES[kind]
    row = conn.execute(
        select(table).where(table.h_instancia == h_instancia, table.id == object_id)
    ).first()
    if row is None:
        raise NotFound(f"no {NAMES[kind]} {object_id}")
    return row


def _date(value: Any, field: str) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{field} must be a date such as 2026-12-31", field=field)


class Visions(HabitStore):
    """`services.visions`."""

    def __init__(self, engine: Engine, ledger: Ledger, clock: Clock) -> None:
        self._engine = engine
        self._ledger = ledger
        self.clock = clock

    # -- shared ------------------------------------------------------------------
    def _seal(
        self,
        conn: Connection,
        h_instancia: str,
        ref: str,
        record: dict[str, Any],
        event: str,
        now: datetime,
    ) -> int:
        """A `vision` leaf over the record's canonical JSON: its index."""
        digest = sha256_hex(canonical_json(record))
        return self._ledger.append_in(
            conn, h_instancia, LEAF_KIND, ref, digest, now, {"event": event}
        )

    @staticmethod
    def _emit(
        conn: Connection,
        h_instancia: str,
        subject: str,
        change: str,
        now: datetime,
        data: dict[str, Any] | None = None,
    ) -> None:
        emit(
            conn,
            "vision",
            h_instancia=h_instancia,
            subject=subject,
            data={"change": change, **(data or {})},
            ts=now,
        )

    def _link_all(
        self,
        conn: Connection,
        h_instancia: str,
        parent: str,
        parent_ids: list[int],
        child: str,
        child_id: int,
    ) -> None:
        for k, parent_id in enumerate(dict.fromkeys(parent_ids)):
            try:
                get_row(conn, parent, h_instancia, parent_id)
            except NotFound as exc:
                raise InvalidInput(exc.message, field=f"{parent}Ids[{k}]") from exc
            table, left, right = LINKS[(parent, child)]
            conn.execute(
                insert(table).values({left: parent_id, right: child_id, "h_instancia": h_instancia})
            )

    # -- visions -----------------------------------------------------------------
    def create_vision(
        self,
        h_instancia: str,
        title: str,
        description: str = "",
        status: str = "active",
        source: dict[str, Any] | None = None,
    ) -> int:
        title = r.text(title, "title", 200)
        description = r.text(description, "description", 20_000, required=False)
        one_of(status, r.VISION_STATES, "status")
        now = self.clock()
        with write_transaction(self._engine) as conn:
            vision_id = conn.execute(
                insert(Vision)
                .values(
                    h_instancia=h_instancia,
                    title=title,
                    description=description,
                    status=status,
                    source=r.source(source),
                    created_at=now,
                    updated_at=now,
                )
                .returning(Vision.id)
            ).scalar_one()
            leaf = self._seal(
                conn,
                h_instancia,
                f"vision/{vision_id}",
                {"vision": vision_id, "title": title, "description": description},
                "vision.created",
                now,
            )
            conn.execute(update(Vision).where(Vision.id == vision_id).values(leaf_index=leaf))
            self._emit(
                conn, h_instancia, f"vision/{vision_id}", "vision.created", now, {"leafIndex": leaf}
            )
        return int(vision_id)

    def get_vision(self, h_instancia: str, vision_id: int) -> dict[str, Any]:
        with self._engine.connect() as conn:
            return r.vision_json(get_row(conn, "vision", h_instancia, vision_id))

    def list_visions(self, h_instancia: str, status: str | None = None) -> list[dict[str, Any]]:
        query = select(Vision).where(Vision.h_instancia == h_instancia)
        if status is not None:
            query = query.where(Vision.status == one_of(status, r.VISION_STATES, "status"))
        with self._engine.connect() as conn:
            found = conn.execute(query.order_by(Vision.id).limit(1000)).all()
            out = []
            for row in found:
                milestones = self._milestones_of(conn, h_instancia, row.id)
                item = r.vision_json(row)
                item["progress"] = progress.weighted(
                    (m["progress"], m["weight"]) for m in milestones
                )
                item["milestoneCount"] = len(milestones)
                out.append(item)
        return out

    def update_vision(
        self, h_instancia: str, vision_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "title":
                values["title"] = r.text(value, "title", 200)
            elif name == "description":
                values["description"] = r.text(value, "description", 20_000, required=False)
            elif name == "status":
                values["status"] = one_of(value, r.VISION_STATES, "status")
            else:
                raise InvalidInput(f"a vision has no field {name!r} to change", field=name)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "vision", h_instancia, vision_id)
            if values:
                conn.execute(
                    update(Vision).where(Vision.id == vision_id).values(**values, updated_at=now)
                )
                self._emit(
                    conn,
                    h_instancia,
                    f"vision/{vision_id}",
                    "vision.updated",
                    now,
                    {"fields": sorted(values)},
                )
        return self.tree(h_instancia, vision_id)

    def delete_vision(self, h_instancia: str, vision_id: int) -> None:
        """The vision and its links; its milestones stay (they may serve others)."""
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "vision", h_instancia, vision_id)
            conn.execute(delete(VisionMilestone).where(VisionMilestone.vision_id == vision_id))
            conn.execute(delete(Vision).where(Vision.id == vision_id))
            self._emit(conn, h_instancia, f"vision/{vision_id}", "vision.deleted", now)

    def tree(self, h_instancia: str, vision_id: int) -> dict[str, Any]:
        """The vision, its milestones with their actions, habits and key results, and
        everyone's progress (computed now)."""
        with self._engine.connect() as conn:
            row = get_row(conn, "vision", h_instancia, vision_id)
            milestones = self._milestones_of(conn, h_instancia, vision_id)
        out = r.vision_json(row)
        out["progress"] = progress.weighted((m["progress"], m["weight"]) for m in milestones)
        out["milestones"] = milestones
        return out

    def _milestones_of(
        self, conn: Connection, h_instancia: str, vision_id: int
    ) -> list[dict[str, Any]]:
        found = conn.execute(
            select(Milestone)
            .join(VisionMilestone, VisionMilestone.milestone_id == Milestone.id)
            .where(VisionMilestone.vision_id == vision_id, Milestone.h_instancia == h_instancia)
            .order_by(Milestone.target_date.is_(None), Milestone.target_date, Milestone.id)
        ).all()
        return self._with_children(conn, h_instancia, found)

    def _with_children(
        self, conn: Connection, h_instancia: str, milestones: Sequence[Any]
    ) -> list[dict[str, Any]]:
        ids = [m.id for m in milestones]
        actions: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        habits: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        results: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for row in conn.execute(
                select(Action, MilestoneAction.milestone_id.label("link_id"))
                .join(MilestoneAction, Action.id == MilestoneAction.action_id)
                .where(MilestoneAction.milestone_id.in_(ids), Action.h_instancia == h_instancia)
                .order_by(Action.due.is_(None), Action.due, Action.id)
            ).all():
                item = r.action_json(row)
                item["progress"] = 1.0 if row.done_at is not None else 0.0
                actions[row.link_id].append(item)
            habit_rows = conn.execute(
                select(Habit, MilestoneHabit.milestone_id.label("link_id"))
                .join(MilestoneHabit, Habit.id == MilestoneHabit.habit_id)
                .where(MilestoneHabit.milestone_id.in_(ids), Habit.h_instancia == h_instancia)
                .order_by(Habit.id)
            ).all()
            stats = self._habit_stats(conn, habit_rows, 0)
            for habit in habit_rows:
                item = {**r.habit_json(habit), **stats[habit.id]}
                item["progress"] = item["strength"]
                habits[habit.link_id].append(item)
            for result in conn.execute(
                select(KeyResult, MilestoneKeyResult.milestone_id.label("link_id"))
                .join(MilestoneKeyResult, KeyResult.id == MilestoneKeyResult.key_result_id)
                .where(
                    MilestoneKeyResult.milestone_id.in_(ids),
                    KeyResult.h_instancia == h_instancia,
                )
                .order_by(KeyResult.id)
            ).all():
                results[result.link_id].append(self._key_result_item(conn, result))
        out = []
        for m in milestones:
            item = r.milestone_json(m)
            item["actions"] = actions[m.id]
            item["habits"] = habits[m.id]
            item["keyResults"] = results[m.id]
            item["progress"] = progress.milestone(
                m.achieved_at is not None,
                (
                    (child["progress"], child["weight"])
                    for child in (*actions[m.id], *habits[m.id], *results[m.id])
                ),
            )
            out.append(item)
        return out

    # -- milestones --------------------------------------------------------------
    def add_milestone(
        self,
        h_instancia: str,
        vision_id: int,
        title: str,
        target_date: date | str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        description: str = "",
    ) -> int:
        """A new milestone serving `vision_id` (THE FACTORY accepts proposals this way)."""
        return self.create_milestone(
            h_instancia,
            title,
            target_date=target_date,
            weight=weight,
            source=source,
            description=description,
            vision_ids=[vision_id],
        )

    def create_milestone(
        self,
        h_instancia: str,
        title: str,
        *,
        target_date: date | str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        description: str = "",
        vision_ids: list[int] | None = None,
    ) -> int:
        values = {
            "title": r.text(title, "title", 200),
            "description": r.text(description, "description", 20_000, required=False),
            "target_date": _date(target_date, "targetDate"),
            "weight": r.weight(weight),
            "source": r.source(source),
        }
        now = self.clock()
        with write_transaction(self._engine) as conn:
            milestone_id = int(
                conn.execute(
                    insert(Milestone)
                    .values(h_instancia=h_instancia, created_at=now, updated_at=now, **values)
                    .returning(Milestone.id)
                ).scalar_one()
            )
            self._link_all(conn, h_instancia, "vision", vision_ids or [], "milestone", milestone_id)
            self._emit(
                conn,
                h_instancia,
                f"milestone/{milestone_id}",
                "milestone.created",
                now,
                {"visions": list(vision_ids or []), "source": values["source"]},
            )
        return milestone_id

    def get_milestone(self, h_instancia: str, milestone_id: int) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = get_row(conn, "milestone", h_instancia, milestone_id)
            item = self._with_children(conn, h_instancia, [row])[0]
            item["visionIds"] = list(
                conn.execute(
                    select(VisionMilestone.vision_id)
                    .where(VisionMilestone.milestone_id == milestone_id)
                    .order_by(VisionMilestone.vision_id)
                ).scalars()
            )
        return item

    def list_milestones(self, h_instancia: str) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(Milestone)
                .where(Milestone.h_instancia == h_instancia)
                .order_by(Milestone.id)
                .limit(1000)
            ).all()
            return self._with_children(conn, h_instancia, found)

    def update_milestone(
        self, h_instancia: str, milestone_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Fields title, description, targetDate, weight, achieved (true seals it)."""
        values: dict[str, Any] = {}
        achieved = None
        for name, value in changes.items():
            if name == "title":
                values["title"] = r.text(value, "title", 200)
            elif name == "description":
                values["description"] = r.text(value, "description", 20_000, required=False)
            elif name in ("target_date", "targetDate"):
                values["target_date"] = _date(value, "targetDate")
            elif name == "weight":
                values["weight"] = r.weight(value)
            elif name == "achieved":
                if not isinstance(value, bool):
                    raise InvalidInput("achieved must be true or false", field="achieved")
                achieved = value
            else:
                raise InvalidInput(f"a milestone has no field {name!r} to change", field=name)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = get_row(conn, "milestone", h_instancia, milestone_id)
            if achieved is True and row.achieved_at is None:
                values["achieved_at"] = now
                values["achieved_leaf"] = self._seal(
                    conn,
                    h_instancia,
                    f"milestone/{milestone_id}",
                    {
                        "milestone": milestone_id,
                        "title": values.get("title", row.title),
                        "achievedAt": now.isoformat(),
                    },
                    "milestone.achieved",
                    now,
                )
            elif achieved is False and row.achieved_at is not None:
                values["achieved_at"] = None
                values["achieved_leaf"] = None  # the old leaf stays in the log
            if values:
                conn.execute(
                    update(Milestone)
                    .where(Milestone.id == milestone_id)
                    .values(**values, updated_at=now)
                )
                change = (
                    "milestone.achieved"
                    if "achieved_at" in values and values["achieved_at"] is not None
                    else "milestone.updated"
                )
                self._emit(
                    conn,
                    h_instancia,
                    f"milestone/{milestone_id}",
                    change,
                    now,
                    {"fields": sorted(values), "leafIndex": values.get("achieved_leaf")},
                )
        return self.get_milestone(h_instancia, milestone_id)

    def delete_milestone(self, h_instancia: str, milestone_id: int) -> None:
        """The milestone and its links; its actions, habits and key results stay."""
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "milestone", h_instancia, milestone_id)
            for table in (VisionMilestone, MilestoneAction, MilestoneHabit, MilestoneKeyResult):
                conn.execute(delete(table).where(table.milestone_id == milestone_id))
            conn.execute(delete(Milestone).where(Milestone.id == milestone_id))
            self._emit(conn, h_instancia, f"milestone/{milestone_id}", "milestone.deleted", now)

    # -- actions -----------------------------------------------------------------
    def add_action(
        self,
        h_instancia: str,
        milestone_id: int,
        title: str,
        due: date | str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        notes: str = "",
    ) -> int:
        """A new action counting toward `milestone_id` (THE FACTORY accepts proposals
        this way)."""
        return self.create_action(
            h_instancia,
            title,
            due=due,
            weight=weight,
            source=source,
            notes=notes,
            milestone_ids=[milestone_id],
        )

    def create_action(
        self,
        h_instancia: str,
        title: str,
        *,
        due: date | str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        notes: str = "",
        evidence: list[str] | None = None,
        milestone_ids: list[int] | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "title": r.text(title, "title", 200),
            "notes": r.text(notes, "notes", 20_000, required=False),
            "due": _date(due, "due"),
            "weight": r.weight(weight),
            "source": r.source(source),
        }
        now = self.clock()
        with write_transaction(self._engine) as conn:
            values["evidence"] = r.evidence(conn, h_instancia, evidence)
            action_id = int(
                conn.execute(
                    insert(Action)
                    .values(h_instancia=h_instancia, created_at=now, updated_at=now, **values)
                    .returning(Action.id)
                ).scalar_one()
            )
            self._link_all(conn, h_instancia, "milestone", milestone_ids or [], "action", action_id)
            self._emit(
                conn,
                h_instancia,
                f"action/{action_id}",
                "action.created",
                now,
                {"milestones": list(milestone_ids or []), "source": values["source"]},
            )
        return action_id

    def get_action(self, h_instancia: str, action_id: int) -> dict[str, Any]:
        with self._engine.connect() as conn:
            item = r.action_json(get_row(conn, "action", h_instancia, action_id))
            item["milestoneIds"] = list(
                conn.execute(
                    select(MilestoneAction.milestone_id)
                    .where(MilestoneAction.action_id == action_id)
                    .order_by(MilestoneAction.milestone_id)
                ).scalars()
            )
        return item

    def list_actions(
        self,
        h_instancia: str,
        *,
        milestone_id: int | None = None,
        vision_id: int | None = None,
        done: bool | None = None,
    ) -> list[dict[str, Any]]:
        query = select(Action).where(Action.h_instancia == h_instancia)
        if milestone_id is not None:
            query = query.join(MilestoneAction, MilestoneAction.action_id == Action.id).where(
                MilestoneAction.milestone_id == milestone_id
            )
        if vision_id is not None:
            linked = (
                select(MilestoneAction.action_id)
                .join(VisionMilestone, VisionMilestone.milestone_id == MilestoneAction.milestone_id)
                .where(VisionMilestone.vision_id == vision_id)
            )
            query = query.where(Action.id.in_(linked))
        if done is not None:
            query = query.where(Action.done_at.is_not(None) if done else Action.done_at.is_(None))
        with self._engine.connect() as conn:
            if milestone_id is not None:
                get_row(conn, "milestone", h_instancia, milestone_id)
            if vision_id is not None:
                get_row(conn, "vision", h_instancia, vision_id)
            found = conn.execute(
                query.order_by(Action.due.is_(None), Action.due, Action.id).limit(5000)
            ).all()
        return [r.action_json(row) for row in found]

    def update_action(
        self, h_instancia: str, action_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Fields title, notes, due, weight, evidence, done (true seals it)."""
        values: dict[str, Any] = {}
        done = None
        for name, value in changes.items():
            if name == "title":
                values["title"] = r.text(value, "title", 200)
            elif name == "notes":
                values["notes"] = r.text(value, "notes", 20_000, required=False)
            elif name == "due":
                values["due"] = _date(value, "due")
            elif name == "weight":
                values["weight"] = r.weight(value)
            elif name == "done":
                if not isinstance(value, bool):
                    raise InvalidInput("done must be true or false", field="done")
                done = value
            elif name != "evidence":
                raise InvalidInput(f"an action has no field {name!r} to change", field=name)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = get_row(conn, "action", h_instancia, action_id)
            if "evidence" in changes:
                values["evidence"] = r.evidence(conn, h_instancia, changes["evidence"])
            if done is True and row.done_at is None:
                values["done_at"] = now
                values["done_leaf"] = self._seal(
                    conn,
                    h_instancia,
                    f"action/{action_id}",
                    {
                        "action": action_id,
                        "title": values.get("title", row.title),
                        "doneAt": now.isoformat(),
                        "evidence": values.get("evidence", row.evidence or []),
                    },
                    "action.done",
                    now,
                )
            elif done is False and row.done_at is not None:
                values["done_at"] = None
                values["done_leaf"] = None  # the old leaf stays in the log
            if values:
                conn.execute(
                    update(Action).where(Action.id == action_id).values(**values, updated_at=now)
                )
                change = "action.done" if values.get("done_at") is not None else "action.updated"
                self._emit(
                    conn,
                    h_instancia,
                    f"action/{action_id}",
                    change,
                    now,
                    {"fields": sorted(values), "leafIndex": values.get("done_leaf")},
                )
        return self.get_action(h_instancia, action_id)

    def delete_action(self, h_instancia: str, action_id: int) -> None:
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "action", h_instancia, action_id)
            conn.execute(delete(MilestoneAction).where(MilestoneAction.action_id == action_id))
            conn.execute(delete(Action).where(Action.id == action_id))
            self._emit(conn, h_instancia, f"action/{action_id}", "action.deleted", now)

    # -- key results -------------------------------------------------------------
    def create_key_result(
        self,
        h_instancia: str,
        title: str,
        *,
        start_value: float,
        target_value: float,
        unit: str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        milestone_ids: list[int] | None = None,
    ) -> int:
        values = {
            "title": r.text(title, "title", 200),
            "unit": None if unit is None else r.text(unit, "unit", 32),
            "start_value": r.number(start_value, "startValue"),
            "target_value": r.number(target_value, "targetValue"),
            "weight": r.weight(weight),
            "source": r.source(source),
        }
        if values["start_value"] == values["target_value"]:
            raise InvalidInput("targetValue must differ from startValue", field="targetValue")
        now = self.clock()
        with write_transaction(self._engine) as conn:
            kr_id = int(
                conn.execute(
                    insert(KeyResult)
                    .values(h_instancia=h_instancia, created_at=now, updated_at=now, **values)
                    .returning(KeyResult.id)
                ).scalar_one()
            )
            self._link_all(conn, h_instancia, "milestone", milestone_ids or [], "key_result", kr_id)
            self._emit(conn, h_instancia, f"key-result/{kr_id}", "key_result.created", now)
        return kr_id

    def _key_result_item(self, conn: Connection, row: Any) -> dict[str, Any]:
        latest = conn.execute(
            select(KeyResultCheckin.value, KeyResultCheckin.day)
            .where(KeyResultCheckin.key_result_id == row.id)
            .order_by(KeyResultCheckin.day.desc(), KeyResultCheckin.id.desc())
            .limit(1)
        ).first()
        current = latest.value if latest is not None else None
        item = r.key_result_json(row)
        item["currentValue"] = current if current is not None else row.start_value
        item["progress"] = progress.key_result(row.start_value, row.target_value, current)
        return item

    def get_key_result(self, h_instancia: str, kr_id: int) -> dict[str, Any]:
        with self._engine.connect() as conn:
            item = self._key_result_item(conn, get_row(conn, "key_result", h_instancia, kr_id))
            item["milestoneIds"] = list(
                conn.execute(
                    select(MilestoneKeyResult.milestone_id)
                    .where(MilestoneKeyResult.key_result_id == kr_id)
                    .order_by(MilestoneKeyResult.milestone_id)
                ).scalars()
            )
        return item

    def list_key_results(self, h_instancia: str) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(KeyResult)
                .where(KeyResult.h_instancia == h_instancia)
                .order_by(KeyResult.id)
                .limit(1000)
            ).all()
            return [self._key_result_item(conn, row) for row in found]

    def update_key_result(
        self, h_instancia: str, kr_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "title":
                values["title"] = r.text(value, "title", 200)
            elif name == "unit":
                values["unit"] = None if value is None else r.text(value, "unit", 32)
            elif name in ("start_value", "startValue"):
                values["start_value"] = r.number(value, "startValue")
            elif name in ("target_value", "targetValue"):
                values["target_value"] = r.number(value, "targetValue")
            elif name == "weight":
                values["weight"] = r.weight(value)
            else:
                raise InvalidInput(f"a key result has no field {name!r} to change", field=name)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            row = get_row(conn, "key_result", h_instancia, kr_id)
            if values.get("start_value", row.start_value) == values.get(
                "target_value", row.target_value
            ):
                raise InvalidInput("targetValue must differ from startValue", field="targetValue")
            if values:
                conn.execute(
                    update(KeyResult).where(KeyResult.id == kr_id).values(**values, updated_at=now)
                )
                self._emit(
                    conn,
                    h_instancia,
                    f"key-result/{kr_id}",
                    "key_result.updated",
                    now,
                    {"fields": sorted(values)},
                )
        return self.get_key_result(h_instancia, kr_id)

    def delete_key_result(self, h_instancia: str, kr_id: int) -> None:
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            conn.execute(
                delete(MilestoneKeyResult).where(MilestoneKeyResult.key_result_id == kr_id)
            )
            conn.execute(delete(KeyResultCheckin).where(KeyResultCheckin.key_result_id == kr_id))
            conn.execute(delete(KeyResult).where(KeyResult.id == kr_id))
            self._emit(conn, h_instancia, f"key-result/{kr_id}", "key_result.deleted", now)

    def key_result_checkin(
        self,
        h_instancia: str,
        kr_id: int,
        value: float,
        *,
        day: date | str | None = None,
        note: str = "",
        evidence: list[str] | None = None,
    ) -> dict[str, Any]:
        """A dated value of the key result, sealed; its progress follows the newest."""
        amount = r.number(value, "value")
        note = r.text(note, "note", 5000, required=False)
        now = self.clock()
        when = _date(day, "day") or now.date()
        with write_transaction(self._engine) as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            proof = r.evidence(conn, h_instancia, evidence)
            checkin_id = int(
                conn.execute(
                    insert(KeyResultCheckin)
                    .values(
                        h_instancia=h_instancia,
                        key_result_id=kr_id,
                        day=when,
                        value=amount,
                        note=note,
                        evidence=proof,
                        created_at=now,
                    )
                    .returning(KeyResultCheckin.id)
                ).scalar_one()
            )
            leaf = self._seal(
                conn,
                h_instancia,
                f"key-result/{kr_id}/checkin/{checkin_id}",
                {"keyResult": kr_id, "day": when.isoformat(), "value": amount, "evidence": proof},
                "key_result.checkin",
                now,
            )
            conn.execute(
                update(KeyResultCheckin)
                .where(KeyResultCheckin.id == checkin_id)
                .values(leaf_index=leaf)
            )
            self._emit(
                conn,
                h_instancia,
                f"key-result/{kr_id}",
                "key_result.checkin",
                now,
                {"checkin": checkin_id, "leafIndex": leaf},
            )
            row = conn.execute(
                select(KeyResultCheckin).where(KeyResultCheckin.id == checkin_id)
            ).one()
        return r.checkin_json(row)

    def key_result_checkins(self, h_instancia: str, kr_id: int) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            found = conn.execute(
                select(KeyResultCheckin)
                .where(KeyResultCheckin.key_result_id == kr_id)
                .order_by(KeyResultCheckin.day, KeyResultCheckin.id)
            ).all()
        return [r.checkin_json(row) for row in found]

    def delete_key_result_checkin(self, h_instancia: str, kr_id: int, checkin_id: int) -> None:
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            gone = conn.execute(
                delete(KeyResultCheckin).where(
                    KeyResultCheckin.id == checkin_id,
                    KeyResultCheckin.key_result_id == kr_id,
                    KeyResultCheckin.h_instancia == h_instancia,
                )
            ).rowcount
            if not gone:
                raise NotFound(f"no check-in {checkin_id} of key result {kr_id}")
            self._emit(
                conn,
                h_instancia,
                f"key-result/{kr_id}",
                "key_result.checkin_deleted",
                now,
                {"checkin": checkin_id},
            )

    def key_result_checkin_leaf(self, h_instancia: str, kr_id: int, checkin_id: int) -> int | None:
        with self._engine.connect() as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            found = conn.execute(
                select(KeyResultCheckin.leaf_index).where(
                    KeyResultCheckin.id == checkin_id,
                    KeyResultCheckin.key_result_id == kr_id,
                    KeyResultCheckin.h_instancia == h_instancia,
                )
            ).first()
        if found is None:
            raise NotFound(f"no check-in {checkin_id} of key result {kr_id}")
        return None if found.leaf_index is None else int(found.leaf_index)

    # -- links -------------------------------------------------------------------
    def link(
        self, h_instancia: str, parent: str, parent_id: int, child: str, child_id: int
    ) -> None:
        """Attach (idempotent): vision→milestone, milestone→action|habit|key_result."""
        table, left, right = self._link_table(parent, child)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, parent, h_instancia, parent_id)
            get_row(conn, child, h_instancia, child_id)
            columns = table.__table__.c
            there = conn.execute(
                select(columns[left]).where(columns[left] == parent_id, columns[right] == child_id)
            ).first()
            if there is None:
                conn.execute(
                    insert(table).values(
                        {left: parent_id, right: child_id, "h_instancia": h_instancia}
                    )
                )
                self._emit(
                    conn,
                    h_instancia,
                    f"{parent}/{parent_id}",
                    f"{parent}.linked",
                    now,
                    {child: child_id},
                )

    def unlink(
        self, h_instancia: str, parent: str, parent_id: int, child: str, child_id: int
    ) -> None:
        table, left, right = self._link_table(parent, child)
        now = self.clock()
        with write_transaction(self._engine) as conn:
            get_row(conn, parent, h_instancia, parent_id)
            get_row(conn, child, h_instancia, child_id)
            columns = table.__table__.c
            gone = conn.execute(
                delete(table).where(columns[left] == parent_id, columns[right] == child_id)
            ).rowcount
            if not gone:
                raise NotFound(
                    f"{NAMES[child]} {child_id} is not linked to {NAMES[parent]} {parent_id}"
                )
            self._emit(
                conn,
                h_instancia,
                f"{parent}/{parent_id}",
                f"{parent}.unlinked",
                now,
                {child: child_id},
            )

    @staticmethod
    def _link_table(parent: str, child: str) -> tuple[Any, str, str]:
        found = LINKS.get((parent, child))
        if found is None:
            raise InvalidInput(
                f"a {NAMES.get(parent, parent)} cannot hold a {NAMES.get(child, child)}; "
                "links are vision→milestone and milestone→action, habit or key result",
                field="kind",
            )
        return found

    # -- receipts ----------------------------------------------------------------
    def leaf_of(self, h_instancia: str, kind: str, object_id: int) -> int | None:
        """The leaf sealing a vision's creation, a milestone's achievement or an action's
        completion (None when there is none yet)."""
        column = {"vision": "leaf_index", "milestone": "achieved_leaf", "action": "done_leaf"}
        with self._engine.connect() as conn:
            row = get_row(conn, kind, h_instancia, object_id)
        found = getattr(row, column[kind])
        return None if found is None else int(found)


__all__ = ["Habit", "HabitCheckin", "Visions"]
