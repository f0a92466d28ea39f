"""Actions: created, linked to milestones, done (sealed) and undone."""

from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import (
    Action,
    MilestoneAction,
    VisionMilestone,
)
from tzzr.errors import InvalidInput
from tzzr.vision import rows as r
from tzzr.vision.store import Store, get_row, parse_date


class Actions(Store):
    def add_action(
        self,
        h_instancia: str,
        milestone_id: int,
        title: str,
        due: date | str | None = None,
        weight: float = 1.0,
        source: dict[str, Any] | None = None,
        notes: str = "",
        *,
        conn: Connection | None = None,
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
            conn=conn,
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
        conn: Connection | None = None,
    ) -> int:
        values: dict[str, Any] = {
            "title": r.text(title, "title", 200),
            "notes": r.text(notes, "notes", 20_000, required=False),
            "due": parse_date(due, "due"),
            "weight": r.weight(weight),
            "source": r.source(source),
        }
        now = self.clock()
        with self._writing(conn) as conn:
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
                values["due"] = parse_date(value, "due")
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
