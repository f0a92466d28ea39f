"""VISION BUILDER's service, `services.visions`: visions, milestones, their links and the
tree with its progress here; actions (`tzzr.vision.actions`), key results
(`tzzr.vision.key_results`) and habits (`tzzr.vision.habit_store`) are mixed in, so it is
one object; what they share is `tzzr.vision.store`.

Every method takes the instance's `h_instancia` and finds nothing of another instance
(NotFound). Every change is a SENTINEL event (kind `vision`) written in its transaction;
a vision's creation, a milestone achieved, an action done and every check-in are sealed
as `vision` ledger leaves in that same transaction (`leafIndex` in the answers).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import (
    Action,
    Habit,
    KeyResult,
    Milestone,
    MilestoneAction,
    MilestoneHabit,
    MilestoneKeyResult,
    Vision,
    VisionMilestone,
)
from tzzr.errors import InvalidInput, NotFound
from tzzr.validation import one_of
from tzzr.vision import progress
from tzzr.vision import rows as r
from tzzr.vision.actions import Actions
from tzzr.vision.habit_store import HabitStore
from tzzr.vision.key_results import KeyResults
from tzzr.vision.store import LINKS, NAMES, Store, get_row, link_once, parse_date


class Visions(Actions, KeyResults, HabitStore, Store):
    """`services.visions`: visions, their tree and progress, milestones and links here;
    actions, key results and habits in their own modules."""

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
        *,
        conn: Connection | None = None,
    ) -> int:
        """A new milestone serving `vision_id` (THE FACTORY accepts proposals this way)."""
        return self.create_milestone(
            h_instancia,
            title,
            target_date=target_date,
            weight=weight,
            source=source,
            description=description,
            conn=conn,
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
        conn: Connection | None = None,
    ) -> int:
        values = {
            "title": r.text(title, "title", 200),
            "description": r.text(description, "description", 20_000, required=False),
            "target_date": parse_date(target_date, "targetDate"),
            "weight": r.weight(weight),
            "source": r.source(source),
        }
        now = self.clock()
        with self._writing(conn) as conn:
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
                values["target_date"] = parse_date(value, "targetDate")
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
            values = {left: parent_id, right: child_id, "h_instancia": h_instancia}
            if link_once(conn, table, values):
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


__all__ = ["Visions"]
