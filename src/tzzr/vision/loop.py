"""Loop Habit Tracker's CSV export, read and written (iSoron/uhabits, `HabitsCSVExporter`
and `HabitList.writeCSV`):

- `Habits.csv`: Position, Name, Type (YES_NO | NUMERICAL), Question, Description,
  FrequencyNumerator, FrequencyDenominator, Color, Unit, Target Type (AT_LEAST |
  AT_MOST), Target Value, Archived?
- `NNN Name/Checkmarks.csv` per habit (NNN its position): Date (yyyy-MM-dd), Value,
  Notes. A yes/no value is YES_MANUAL, YES_AUTO, NO, SKIP or UNKNOWN (older versions
  wrote 2, 1, 0, 3 and -1); a numeric value is the amount times 1000.
- `NNN Name/Scores.csv` and the root `Checkmarks.csv` / `Scores.csv` (a column per habit).

Only what a person did is imported: YES_MANUAL days of a yes/no habit, the amounts of a
numeric one (YES_AUTO days are recomputed from the frequency). A habit whose name exists
already gets the days it lacks, so importing the same export twice changes nothing. An
AT_MOST numeric habit is imported as AT_LEAST (TZZR has no upper targets), and said so.
"""

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tzzr.canonical import UNSTORABLE, UNSTORABLE_TEXT
from tzzr.db.engine import write_transaction
from tzzr.db.models_vision import Habit, HabitCheckin
from tzzr.errors import InvalidInput, TooLarge
from tzzr.vision import habits as arithmetic
from tzzr.vision.habit_store import habit_today, habit_values
from tzzr.vision.store import FIRST_DAY

if TYPE_CHECKING:
    from tzzr.vision.service import Visions

HEADER = [
    "Position",
    "Name",
    "Type",
    "Question",
    "Description",
    "FrequencyNumerator",
    "FrequencyDenominator",
    "Color",
    "Unit",
    "Target Type",
    "Target Value",
    "Archived?",
]
# Limits (docs/vision.md): the CSV an archive may unpack to, the habits of one import
# and the rows of one Checkmarks.csv (82 years of days); the parsed days stay in memory
# until the import's one transaction writes them.
MAX_UNPACKED = 16 * 1024 * 1024
MAX_HABITS = 1000
MAX_ROWS = 30_000
MAX_AMOUNT = 1e15  # a numeric check-in's value, as every writer bounds it
CHECKED = {"YES_MANUAL", "2"}
NOT_DONE = {"YES_AUTO", "1", "NO", "0", "SKIP", "3", "-3", "UNKNOWN", "-1", ""}
COLOR = "#37474F"
DONE = (1.0, "")  # one tuple for every plain yes (a million days are a million entries)


def _sanitize(name: str) -> str:
    """Loop's `sanitizeFilename`."""
    return re.sub(r"[^ a-zA-Z0-9._-]+", "", name)[:100]


def _rows(text: str, where: str) -> Iterator[list[str]]:
    """The non-empty rows, read as they are used (a file is never held twice)."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{where} is not CSV: {exc}", field="file") from exc
        if row:
            yield row


def _counted(rows: Iterator[list[str]], where: str) -> Iterator[tuple[int, list[str]]]:
    """(k, row) for at most MAX_ROWS rows; 413 past them."""
    for k, row in enumerate(rows):
        if k >= MAX_ROWS:
            raise TooLarge(f"{where} has more than {MAX_ROWS} rows (days) to import")
        yield k, row


def _text(value: str, where: str) -> str:
    """Imported text, refused where no database could store it (NUL, lone surrogates)."""
    if UNSTORABLE.search(value):
        raise InvalidInput(f"{where}: {UNSTORABLE_TEXT}", field="file")
    return value


def _day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{where}: {value!r} is not a date (yyyy-MM-dd)", field="file") from exc


def _value(raw: str, numeric: bool, where: str) -> float | None:
    """What a Checkmarks.csv value means for TZZR: a check-in's value, or None."""
    raw = raw.strip()
    if not numeric:
        if raw in CHECKED:
            return 1.0
        if raw in NOT_DONE:
            return None
        raise InvalidInput(f"{where}: {raw!r} is not a Loop checkmark value", field="file")
    try:
        amount = int(raw)
    except ValueError:
        if raw in NOT_DONE:
            return None
        raise InvalidInput(f"{where}: {raw[:40]!r} is not a number", field="file") from None
    if amount > MAX_AMOUNT * 1000:  # before dividing: a 400-digit value overflows a float
        raise InvalidInput(
            f"{where}: the value is more than {MAX_AMOUNT:g} (Loop writes the amount times 1000)",
            field="file",
        )
    return amount / 1000 if amount >= 0 else None


def _habit_fields(row: dict[str, str], tz: str, k: int) -> tuple[dict[str, Any], list[str]]:
    where = f"Habits.csv row {k + 2}"
    notes = []
    numeric = row.get("Type", "YES_NO").strip() == "NUMERICAL"
    try:
        times = int(row.get("FrequencyNumerator") or 1)
        days = int(row.get("FrequencyDenominator") or 1)
    except ValueError as exc:
        raise InvalidInput(f"{where}: the frequency is not whole numbers", field="file") from exc
    fields: dict[str, Any] = {
        "name": _text((row.get("Name") or "").strip(), f"{where} (Name)")
        or f"Habit {row.get('Position', k + 1)}",
        "description": _text(
            "\n".join(
                part for part in (row.get("Question", ""), row.get("Description", "")) if part
            ),
            f"{where} (Question, Description)",
        ),
        "kind": arithmetic.NUMERIC if numeric else arithmetic.BOOLEAN,
        "times": 1 if numeric else times,
        "interval_days": days,
        "tz": tz,
        "archived": (row.get("Archived?") or "false").strip().lower() == "true",
    }
    if numeric:
        try:
            target = float(row.get("Target Value") or 0) or 1.0
        except ValueError as exc:
            raise InvalidInput(f"{where}: Target Value is not a number", field="file") from exc
        if not math.isfinite(target) or abs(target) > MAX_AMOUNT:
            raise InvalidInput(
                f"{where}: Target Value must be a finite number within ±{MAX_AMOUNT:g}",
                field="file",
            )
        fields["target"] = target
        fields["unit"] = _text((row.get("Unit") or "").strip()[:32], f"{where} (Unit)") or None
        if (row.get("Target Type") or "").strip() == "AT_MOST":
            notes.append(f"{fields['name']}: an AT_MOST target was imported as at least")
    return fields, notes


def _checkmarks(text: str, numeric: bool, where: str) -> dict[date, tuple[float, str]]:
    out: dict[date, tuple[float, str]] = {}
    for k, row in _counted(_rows(text, where), where):
        if k == 0 and row[0] == "Date":
            continue
        at = f"{where} row {k + 1}"
        value = _value(row[1] if len(row) > 1 else "", numeric, at)
        if value is not None:
            note = _text(row[2], f"{at} (Notes)") if len(row) > 2 else ""
            out[_day(row[0], at)] = DONE if value == 1.0 and not note else (value, note)
    return out


def _unpack(raw: bytes) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"the archive is not a zip file: {exc}", field="file") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and i.filename.endswith(".csv")]
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise TooLarge(f"the archive unpacks to more than {MAX_UNPACKED} bytes of CSV")
        try:
            return {i.filename: archive.read(i).decode("utf-8-sig") for i in infos}
        except (UnicodeDecodeError, zipfile.BadZipFile, ValueError) as exc:
            raise InvalidInput(
                f"the archive's CSV files are unreadable: {exc}", field="file"
            ) from exc


def parse(raw: bytes, content_type: str, tz: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Habits as (fields, {day: (value, note)}) from an export: its zip, its Habits.csv or
    its root Checkmarks.csv (yes/no habits named by the columns)."""
    notes: list[str] = []
    if raw[:4] == b"PK\x03\x04" or "zip" in content_type:
        files = _unpack(raw)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput("the CSV is not UTF-8 text", field="file") from exc
        first = text.split("\n", 1)[0]
        files = {"Habits.csv" if first.startswith("Position") else "Checkmarks.csv": text}
    habits_csv = _root(files, "Habits.csv")
    found: list[dict[str, Any]] = []
    if habits_csv is not None:
        rows = list(_rows(habits_csv, "Habits.csv"))
        if not rows or rows[0][:2] != HEADER[:2]:
            raise InvalidInput(
                "Habits.csv does not start with Loop's header (Position,Name,…)", field="file"
            )
        records = [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]
        if len(records) > MAX_HABITS:
            raise TooLarge(f"at most {MAX_HABITS} habits at a time")
        for k, record in enumerate(records):
            fields, more = _habit_fields(record, tz, k)
            notes += more
            position = (record.get("Position") or "").strip()
            folder = f"{position} {_sanitize(record.get('Name', ''))}".strip()
            marks = next(
                (
                    v
                    for name, v in files.items()
                    if name.split("/")[-2:-1] == [folder] and name.endswith("/Checkmarks.csv")
                ),
                None,
            )
            numeric = fields["kind"] == arithmetic.NUMERIC
            days = _checkmarks(marks, numeric, f"{folder}/Checkmarks.csv") if marks else {}
            found.append({"fields": fields, "days": days, "where": f"Habits.csv row {k + 2}"})
        wide = _root(files, "Checkmarks.csv")
        if found and not any(item["days"] for item in found) and wide is not None:
            _wide(wide, found)
    elif (wide := _root(files, "Checkmarks.csv")) is not None:
        header = next(_rows(wide, "Checkmarks.csv"), None)
        if header is None or header[0] != "Date":
            raise InvalidInput(
                "this is not Loop's export: send its zip, its Habits.csv (Position,Name,…) "
                "or its Checkmarks.csv (Date,…)",
                field="file",
            )
        names = [_text(n, "Checkmarks.csv row 1") for n in header[1:] if n]
        if len(names) > MAX_HABITS:
            raise TooLarge(f"at most {MAX_HABITS} habits at a time")
        found = [
            {
                "fields": {
                    "name": name,
                    "description": "",
                    "kind": arithmetic.BOOLEAN,
                    "times": 1,
                    "interval_days": 1,
                    "tz": tz,
                    "archived": False,
                },
                "days": {},
                "where": "Checkmarks.csv row 1",
            }
            for name in names
        ]
        _wide(wide, found)
    else:
        raise InvalidInput(
            "send Loop's export: its zip, its Habits.csv or its Checkmarks.csv", field="file"
        )
    return found, notes


def _root(files: dict[str, str], name: str) -> str | None:
    """The export's top-level `name` (the zip may hold one folder around it)."""
    tops = sorted((k.count("/"), k) for k in files if k.rsplit("/", 1)[-1] == name)
    if not tops or tops[0][0] > 1:
        return None
    return files[tops[0][1]]


def _wide(text: str, found: list[dict[str, Any]]) -> None:
    """The root Checkmarks.csv: a column per habit, in the order of Habits.csv."""
    for k, row in _counted(_rows(text, "Checkmarks.csv"), "Checkmarks.csv"):
        if k == 0:
            continue  # the header: Date and the habits' names
        where = f"Checkmarks.csv row {k + 1}"
        day = _day(row[0], where)
        for item, raw in zip(found, row[1:], strict=False):
            numeric = item["fields"]["kind"] == arithmetic.NUMERIC
            value = _value(raw, numeric, where)
            if value is not None:
                item["days"][day] = DONE if value == 1.0 else (value, "")


def import_bytes(
    visions: "Visions", h_instancia: str, raw: bytes, content_type: str, tz: str = "UTC"
) -> dict[str, Any]:
    """Import in one transaction (all or nothing); each new check-in is sealed."""
    parsed, notes = parse(raw, content_type, tz)
    now = visions.clock()
    out = []
    total = 0
    with write_transaction(visions._engine) as conn:
        for item in parsed:
            try:
                values = habit_values(item["fields"], None)
            except InvalidInput as exc:  # the habit's name too long, a frequency out of range
                if exc.field == "tz":  # the request's ?tz=, not the file
                    raise
                raise InvalidInput(f"{item['where']}: {exc.message}", field="file") from exc
            existing = conn.execute(
                select(Habit).where(Habit.h_instancia == h_instancia, Habit.name == values["name"])
            ).first()
            if existing is None:
                habit_id = visions.insert_habit(conn, h_instancia, values, {"import": "loop"}, now)
                had: set[date] = set()
                tz_name = values["tz"]
            else:
                habit_id = existing.id
                tz_name = existing.tz
                had = set(
                    conn.execute(
                        select(HabitCheckin.day).where(HabitCheckin.habit_id == habit_id)
                    ).scalars()
                )
            today = habit_today(tz_name, now)
            fresh = [
                (day, value, note[:5000])
                for day, (value, note) in sorted(item["days"].items())
                if day not in had and FIRST_DAY <= day <= today
            ]
            added = visions.insert_checkins(conn, h_instancia, habit_id, fresh, now)
            total += added
            out.append(
                {
                    "id": habit_id,
                    "name": values["name"],
                    "created": existing is None,
                    "checkins": added,
                }
            )
    return {"habits": out, "checkins": total, "notes": notes}


def export_archive(visions: "Visions", h_instancia: str) -> bytes:
    """Every habit of the instance in Loop's export layout (a zip)."""
    with visions._engine.connect() as conn:
        habits = conn.execute(
            select(Habit).where(Habit.h_instancia == h_instancia).order_by(Habit.id)
        ).all()
        values: dict[int, dict[date, tuple[float, str]]] = {h.id: {} for h in habits}
        if habits:
            for row in conn.execute(
                select(
                    HabitCheckin.habit_id, HabitCheckin.day, HabitCheckin.value, HabitCheckin.note
                ).where(HabitCheckin.habit_id.in_(list(values)))
            ).all():
                values[row.habit_id][row.day] = (row.value, row.note)
    now = visions.clock()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Habits.csv", _habits_csv(habits))
        for k, h in enumerate(habits):
            folder = f"{k + 1:03d} {_sanitize(h.name)}".strip()
            freq = arithmetic.Frequency(h.times, h.interval_days)
            plain = {d: v for d, (v, _) in values[h.id].items()}
            done = arithmetic.done_days(h.kind, freq, plain, h.target)
            lines = _writer()
            lines[1].writerow(["Date", "Value", "Notes"])
            # a numeric habit's entries are what was recorded; a yes/no one's, also the
            # days its intervals fill (Loop's YES_AUTO)
            shown = set(values[h.id]) | (done if h.kind == arithmetic.BOOLEAN else set())
            for day in sorted(shown, reverse=True):
                lines[1].writerow(
                    [
                        day.isoformat(),
                        _formatted(h, values[h.id].get(day)),
                        (values[h.id].get(day) or (0, ""))[1],
                    ]
                )
            archive.writestr(f"{folder}/Checkmarks.csv", lines[0].getvalue())
            today = habit_today(h.tz, now)
            scores = arithmetic.scores(h.kind, freq, plain, h.target, today)
            lines = _writer()
            lines[1].writerow(["Date", "Score"])
            for day in sorted(scores, reverse=True):
                lines[1].writerow([day.isoformat(), f"{scores[day]:.4f}"])
            archive.writestr(f"{folder}/Scores.csv", lines[0].getvalue())
    return buffer.getvalue()


def _writer() -> tuple[io.StringIO, Any]:
    out = io.StringIO()
    return out, csv.writer(out, lineterminator="\n")


def _formatted(habit: Any, found: tuple[float, str] | None) -> str:
    if habit.kind == arithmetic.NUMERIC:
        return str(round((found or (0.0, ""))[0] * 1000))
    return "YES_MANUAL" if found is not None else "YES_AUTO"


def _habits_csv(habits: Any) -> str:
    out, writer = _writer()
    writer.writerow(HEADER)
    for k, h in enumerate(habits):
        numeric = h.kind == arithmetic.NUMERIC
        writer.writerow(
            [
                f"{k + 1:03d}",
                h.name,
                "NUMERICAL" if numeric else "YES_NO",
                "",
                h.description,
                str(h.times),
                str(h.interval_days),
                COLOR,
                (h.unit or "") if numeric else "",
                "AT_LEAST" if numeric else "",
                str(h.target) if numeric else "",
                "true" if h.archived else "false",
            ]
        )
    return out.getvalue()
