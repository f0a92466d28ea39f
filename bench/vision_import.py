"""VISION BUILDER benchmark (issue 17), on SQLite in a temporary directory.

1. A Loop Habit Tracker export (5 habits x 1000 days) imported in bulk (one leaf
   reservation and one insert per habit) against the same check-ins sealed one by one
   in one transaction (the reference): the ratio is the speed-up.
2. Reading: the habit list with streaks and strength over those 5,000 check-ins, and a
   vision's tree of 50 milestones x 10 actions, in milliseconds.
"""

import io
import tempfile
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tzzr.db.engine import create_db_engine, dispose, migrate, write_transaction
from tzzr.feldman.sealing import Feldman
from tzzr.feldman.signing import SigningKeys
from tzzr.instances import Instances
from tzzr.vision import loop
from tzzr.vision.service import Visions

HABITS, DAYS = 5, 1000
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
HEADER = (
    "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
    "Color,Unit,Target Type,Target Value,Archived?\n"
)


def export() -> bytes:
    buffer = io.BytesIO()
    last = date(2026, 12, 1)
    with zipfile.ZipFile(buffer, "w") as archive:
        rows = "".join(f"{k + 1:03d},H{k},YES_NO,,,1,1,#000000,,,,false\n" for k in range(HABITS))
        archive.writestr("Habits.csv", HEADER + rows)
        marks = "".join(f"{last - timedelta(days=i)},YES_MANUAL,\n" for i in range(DAYS))
        for k in range(HABITS):
            archive.writestr(f"{k + 1:03d} H{k}/Checkmarks.csv", "Date,Value,Notes\n" + marks)
    return buffer.getvalue()


def main() -> None:
    home = Path(tempfile.mkdtemp())
    engine = create_db_engine(f"sqlite:///{home / 'bench.db'}")
    migrate(engine)
    instances = Instances(engine)
    visions = Visions(engine, Feldman(engine, SigningKeys(engine, home / "keys")), lambda: NOW)
    archive = export()

    bulk = instances.add("bulk").h_instancia
    started = time.perf_counter()
    done = loop.import_bytes(visions, bulk, archive, "application/zip")
    bulk_s = time.perf_counter() - started

    one = instances.add("one").h_instancia
    parsed, _ = loop.parse(archive, "application/zip", "UTC")
    started = time.perf_counter()
    with write_transaction(engine) as conn:
        for item in parsed:
            habit_id = visions.insert_habit(
                conn, one, item["fields"] | {"target": None, "unit": None, "weight": 1.0}, None, NOW
            )
            for day, (value, note) in sorted(item["days"].items()):
                visions.insert_checkin(conn, one, habit_id, day, value, note, [], NOW)
    one_s = time.perf_counter() - started
    count = done["checkins"]
    rate = count / bulk_s
    print(f"import {count} check-ins: bulk {bulk_s:.2f} s ({rate:,.0f}/s), one by one")
    print(f"  {one_s:.2f} s; ratio {one_s / bulk_s:.1f}x")

    started = time.perf_counter()
    visions.list_habits(bulk)
    took = (time.perf_counter() - started) * 1000
    print(f"list_habits ({HABITS} habits, {count} check-ins): {took:.0f} ms")
    vision = visions.create_vision(bulk, "big")
    for m in range(50):
        milestone = visions.add_milestone(bulk, vision, f"m{m}")
        for a in range(10):
            visions.add_action(bulk, milestone, f"a{a}")
    started = time.perf_counter()
    visions.tree(bulk, vision)
    print(f"tree of 50 milestones x 10 actions: {(time.perf_counter() - started) * 1000:.0f} ms")
    dispose(engine)


if __name__ == "__main__":
    main()
