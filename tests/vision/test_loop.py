"""Loop Habit Tracker's CSV export: any history exported and imported into another
instance comes back the same (property test), older exports' numeric values read, the
root Checkmarks.csv alone, and bad files a 422 naming the file."""

import io
import itertools
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tzzr.db.engine import create_db_engine, dispose, migrate
from tzzr.errors import InvalidInput, TooLarge
from tzzr.feldman.sealing import Feldman
from tzzr.feldman.signing import SigningKeys
from tzzr.instances import Instances
from tzzr.vision import loop
from tzzr.vision.service import Visions

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
START = date(2026, 9, 1)
HEADER = (
    "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
    "Color,Unit,Target Type,Target Value,Archived?\n"
)
names = (f"i{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Visions, Instances]]:
    home: Path = tmp_path_factory.mktemp("loop")
    engine = create_db_engine(f"sqlite:///{home / 'x.db'}")
    migrate(engine)
    yield (
        Visions(engine, Feldman(engine, SigningKeys(engine, home / "keys")), lambda: NOW),
        Instances(engine),
    )
    dispose(engine)


histories = st.tuples(
    st.sampled_from([(1, 1), (3, 7), (1, 7), (2, 3)]),
    st.sets(st.integers(0, 90), max_size=40),
    st.dictionaries(st.integers(0, 90), st.integers(0, 50_000), max_size=30),
)


@given(histories)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_history_round_trips(
    made: tuple[Visions, Instances], history: tuple[tuple[int, int], set[int], dict[int, int]]
) -> None:
    visions, instances = made
    (times, days), checked, amounts = history
    mine, theirs = instances.add(next(names)).h_instancia, instances.add(next(names)).h_instancia
    yes = visions.create_habit(mine, "Yes, no", times=times, interval_days=days, tz="Europe/Madrid")
    num = visions.create_habit(
        mine, "Numbers", kind="numeric", target=7.5, unit="km", interval_days=days
    )
    for k in sorted(checked):
        visions.checkin(mine, yes, day=START + timedelta(days=k))
    for k, milli in sorted(amounts.items()):
        visions.checkin(mine, num, day=START + timedelta(days=k), value=milli / 1000)
    archive = loop.export_archive(visions, mine)
    done = loop.import_bytes(visions, theirs, archive, "application/zip", "Europe/Madrid")
    assert done["checkins"] == len(checked) + len(amounts)
    again = {h["name"]: h for h in visions.list_habits(theirs)}
    for h in visions.list_habits(mine):
        other = again[h["name"]]
        for field in (
            "kind",
            "times",
            "intervalDays",
            "target",
            "unit",
            "strength",
            "bestStreak",
            "currentStreak",
        ):
            assert other[field] == h[field], field
        ours = [(c["day"], c["value"]) for c in visions.checkins(mine, h["id"])]
        assert [(c["day"], c["value"]) for c in visions.checkins(theirs, other["id"])] == ours
    # Loop's own scores file carries the strength of each day
    scores = next(
        n
        for n in zipfile.ZipFile(io.BytesIO(archive)).namelist()
        if n.endswith("Yes no/Scores.csv")
    )
    assert zipfile.ZipFile(io.BytesIO(archive)).read(scores).decode().startswith("Date,Score\n")


def test_older_exports_and_the_root_checkmarks(made: tuple[Visions, Instances]) -> None:
    visions, instances = made
    h = instances.add(next(names)).h_instancia
    files = {
        "Habits.csv": HEADER
        + "001,Read,YES_NO,,,1,1,#000,,,,false\n002,Run,NUMERICAL,,,1,1,#000,km,AT_MOST,5,true\n",
        "001 Read/Checkmarks.csv": "2026-11-03,2\n2026-11-02,1\n2026-11-01,0\n2026-10-31,-1\n",
        "002 Run/Checkmarks.csv": "Date,Value,Notes\n2026-11-03,2500,\n2026-11-02,-1,\n",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(f"Loop Habits CSV 2026-11-04/{name}", ("\ufeff" + text).encode())
    done = loop.import_bytes(visions, h, buffer.getvalue(), "application/zip")
    assert [(x["name"], x["checkins"]) for x in done["habits"]] == [("Read", 1), ("Run", 1)]
    assert done["notes"] == ["Run: an AT_MOST target was imported as at least"]
    run = next(x for x in visions.list_habits(h, archived=None) if x["name"] == "Run")
    assert run["archived"] and run["target"] == 5.0
    assert [c["value"] for c in visions.checkins(h, run["id"])] == [2.5]
    # only the wide Checkmarks.csv: a yes/no habit per column
    wide = "Date,Walk,Read,\n2026-11-03,YES_MANUAL,YES_AUTO,\n2026-11-02,YES_MANUAL,YES_MANUAL,\n"
    fresh = instances.add(next(names)).h_instancia
    found = loop.import_bytes(visions, fresh, wide.encode(), "text/csv")
    assert {x["name"]: x["checkins"] for x in found["habits"]} == {"Walk": 2, "Read": 1}


@pytest.mark.parametrize(
    ("body", "kind", "says"),
    [
        (b"PK\x03\x04broken", "application/zip", "not a zip"),
        (HEADER.encode() + b"001,A,YES_NO,,,x,1,#0,,,,false\n", "text/csv", "frequency"),
        (b"Date,A\nyesterday,YES_MANUAL\n", "text/csv", "not a date"),
        (b"Date,A\n2026-11-01,MAYBE\n", "text/csv", "not a Loop checkmark value"),
        (b"\xff\xfe", "text/csv", "UTF-8"),
        (b"hello", "text/csv", "Loop's export"),
    ],
)
def test_bad_files_are_a_422_naming_the_file(
    made: tuple[Visions, Instances], body: bytes, kind: str, says: str
) -> None:
    visions, instances = made
    h = instances.add(next(names)).h_instancia
    with pytest.raises(InvalidInput) as raised:
        loop.import_bytes(visions, h, body, kind)
    assert raised.value.field == "file" and says in raised.value.message
    assert visions.list_habits(h) == []  # nothing half written


def test_an_archive_unpacking_too_far_is_refused(made: tuple[Visions, Instances]) -> None:
    visions, instances = made
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Habits.csv", b"0" * (loop.MAX_UNPACKED + 1))
    with pytest.raises(TooLarge):
        loop.import_bytes(
            visions, instances.add(next(names)).h_instancia, buffer.getvalue(), "application/zip"
        )


def test_a_proposal_accepted_in_the_callers_transaction_is_written_with_it(
    made: tuple[Visions, Instances],
) -> None:
    """THE FACTORY's way in: add_milestone / add_action with `conn` write nothing when
    the caller's transaction fails after them."""
    from tzzr.db.engine import write_transaction

    visions, instances = made
    h = instances.add(next(names)).h_instancia
    vision = visions.create_vision(h, "atomic")
    with pytest.raises(RuntimeError), write_transaction(visions._engine) as conn:
        milestone = visions.add_milestone(h, vision, "kept?", source={"round": 1}, conn=conn)
        visions.add_action(h, milestone, "kept too?", conn=conn)
        raise RuntimeError("the caller's own write failed")
    assert visions.tree(h, vision)["milestones"] == []
    assert visions.list_actions(h) == []
    with write_transaction(visions._engine) as conn:
        milestone = visions.add_milestone(h, vision, "kept", source={"round": 1}, conn=conn)
        visions.add_action(h, milestone, "kept too", conn=conn)
    (found,) = visions.tree(h, vision)["milestones"]
    assert found["source"] == {"round": 1} and [a["title"] for a in found["actions"]] == [
        "kept too"
    ]
