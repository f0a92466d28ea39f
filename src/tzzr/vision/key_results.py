"""Key results and their dated check-ins (sealed); progress follows the newest value."""

from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import (
    KeyResult,
    KeyResultCheckin,
    MilestoneKeyResult,
)
from tzzr.errors import InvalidInput, NotFound
from tzzr.vision import progress
from tzzr.vision import rows as r
from tzzr.vision.store import Store, get_row, parse_date

AHEAD_OF_UTC = timedelta(hours=14)  # the earliest zone (Pacific/Kiritimati)


def key_result_record(kr_id: int, day: str, value: float, evidence: list[str]) -> dict[str, Any]:
    """What a key result's check-in leaf seals (its hash is this record's)."""
    return {"keyResult": kr_id, "day": day, "value": value, "evidence": evidence}


class KeyResults(Store):
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
        when = parse_date(day, "day") or now.date()
        # A key result has no zone: a day that has begun somewhere on Earth (UTC+14) is
        # accepted, as a habit's check-in accepts today in the habit's zone.
        if when > (now.astimezone(UTC) + AHEAD_OF_UTC).date():
            raise InvalidInput(f"{when.isoformat()} has not begun yet anywhere", field="day")
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
                key_result_record(kr_id, when.isoformat(), amount, proof),
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

    def get_key_result_checkin(
        self, h_instancia: str, kr_id: int, checkin_id: int
    ) -> dict[str, Any]:
        with self._engine.connect() as conn:
            get_row(conn, "key_result", h_instancia, kr_id)
            found = conn.execute(
                select(KeyResultCheckin).where(
                    KeyResultCheckin.id == checkin_id,
                    KeyResultCheckin.key_result_id == kr_id,
                    KeyResultCheckin.h_instancia == h_instancia,
                )
            ).first()
        if found is None:
            raise NotFound(f"no check-in {checkin_id} of key result {kr_id}")
        return r.checkin_json(found)
