"""VISION BUILDER's limits on what it stores: dates a calendar can write, moments a zone
can read, numbers and text a Loop import may carry, ids never reused after a delete, and
links that two requests may add at once (PostgreSQL)."""

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from tests.api.conftest import Api, in_process
from tzzr.db.models_vision import VisionMilestone
from tzzr.vision import calendar, loop

HEADER = (
    "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
    "Color,Unit,Target Type,Target Value,Archived?\n"
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("vision-limits") / "home") as made:
        yield made


def refused(response: Any, field: str, says: str = "") -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    assert says in error["message"], error
    return str(error["message"])


def made(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_dates_outside_1970_to_2200_are_refused_and_calendars_still_answer(api: Api) -> None:
    _, client = api
    vid = made(client.post("/visions", json={"title": "Far dates"}))["id"]
    refused(client.post("/actions", json={"title": "x", "due": "9999-12-31"}), "due", "2200-12-31")
    refused(client.post("/milestones", json={"title": "x", "targetDate": "1969-12-31"}),
            "targetDate", "1970-01-01")  # fmt: skip
    action = made(client.post("/actions", json={"title": "ok", "due": "2200-12-31"}))
    refused(client.patch(f"/actions/{action['id']}", json={"due": "2201-01-01"}), "due")
    assert client.get("/actions.ics").status_code == 200
    assert client.get(f"/visions/{vid}/calendar.ics").status_code == 200
    # the writer itself skips a day it cannot end (rows written before the limit)
    row = {"id": 1, "title": "t", "done": False, "due": "9999-12-31",
           "updatedAt": "2026-12-02T00:00:00Z"}  # fmt: skip
    assert b"VEVENT" not in calendar.actions_ics([row], "deck", None)


def test_a_moment_past_year_9999_in_the_habits_zone_is_a_422_on_at(api: Api) -> None:
    _, client = api
    habit = made(client.post("/habits", json={"name": "Kiritimati", "tz": "Pacific/Kiritimati"}))
    refused(
        client.post(f"/habits/{habit['id']}/checkins", json={"at": "9999-12-31T23:00:00Z"}),
        "at",
        "9999",
    )


def test_key_result_checkins_are_for_days_that_have_begun(api: Api) -> None:
    services, client = api
    kr = made(client.post("/key-results", json={"title": "km", "startValue": 0, "targetValue": 10}))
    url = f"/key-results/{kr['id']}/checkins"
    refused(client.post(url, json={"value": 5, "day": "9999-12-31"}), "day")
    refused(client.post(url, json={"value": 5, "day": "1969-12-31"}), "day", "1970-01-01")
    now = services.visions.clock().astimezone(UTC)
    tomorrow_somewhere = (now + timedelta(hours=14)).date()
    refused(
        client.post(url, json={"value": 5, "day": (tomorrow_somewhere + timedelta(1)).isoformat()}),
        "day",
        "has not begun",
    )
    made(client.post(url, json={"value": 4, "day": tomorrow_somewhere.isoformat()}))
    assert client.get(f"/key-results/{kr['id']}").json()["currentValue"] == 4


def test_an_id_is_never_reused_after_a_delete(api: Api) -> None:
    _, client = api
    for path, body in (
        ("/visions", {"title": "v"}),
        ("/milestones", {"title": "m"}),
        ("/actions", {"title": "a"}),
        ("/habits", {"name": "h-reuse"}),
        ("/key-results", {"title": "k", "startValue": 0, "targetValue": 1}),
    ):
        first = made(client.post(path, json=body))["id"]
        assert client.delete(f"{path}/{first}").status_code == 204
        again = made(client.post(path, json=body))["id"]
        assert again > first, path


def _loop_zip(habits: str, marks: str, folder: str = "001 Run") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Habits.csv", HEADER + habits)
        archive.writestr(f"{folder}/Checkmarks.csv", "Date,Value,Notes\n" + marks)
    return buffer.getvalue()


def _import(client: Any, body: bytes) -> Any:
    return client.post("/habits/import", content=body, headers={"Content-Type": "application/zip"})


def test_a_loop_import_refuses_numbers_past_1e15(api: Api) -> None:
    _, client = api
    numeric = "001,Run,NUMERICAL,,,1,1,#FF8F00,km,AT_LEAST,5,false\n"
    huge = _loop_zip(numeric, "2026-11-30," + "9" * 400 + ",\n")
    refused(_import(client, huge), "file", "001 Run/Checkmarks.csv row 2")
    endless = _loop_zip("001,Run,NUMERICAL,,,1,1,#FF8F00,km,AT_LEAST,1e400,false\n", "")
    refused(_import(client, endless), "file", "Habits.csv row 2")
    assert not any(h["name"] == "Run" for h in client.get("/habits").json()["habits"])


def test_a_loop_import_refuses_text_no_database_can_store(api: Api) -> None:
    _, client = api
    for habits, marks, where in (
        ("001,Ru\x00n,YES_NO,,,1,1,#FF8F00,,,,false\n", "", "Habits.csv row 2"),
        ("001,Run,YES_NO,,Desc\x00,1,1,#FF8F00,,,,false\n", "", "Habits.csv row 2"),
        ("001,Run,NUMERICAL,,,1,1,#FF8F00,k\x00m,AT_LEAST,5,false\n", "", "Habits.csv row 2"),
        ("001,Run,YES_NO,,,1,1,#FF8F00,,,,false\n", "2026-11-30,YES_MANUAL,no\x00te\n",
         "001 Run/Checkmarks.csv row 2"),
    ):  # fmt: skip
        refused(_import(client, _loop_zip(habits, marks)), "file", where)
    wide = b"Date,Ru\x00n\n2026-11-30,YES_MANUAL\n"
    refused(
        client.post("/habits/import", content=wide, headers={"Content-Type": "text/csv"}),
        "file",
        "Checkmarks.csv row 1",
    )
    names = {h["name"] for h in client.get("/habits").json()["habits"]}
    assert not any("Run" in name or "\x00" in name for name in names)  # nothing half written


def test_a_loop_import_has_bounded_rows_and_archive(api: Api) -> None:
    _, client = api
    assert loop.MAX_UNPACKED == 16 * 1024 * 1024
    first = date(1970, 1, 1)
    rows = "".join(
        f"{(first + timedelta(days=k)).isoformat()},NO,\n" for k in range(loop.MAX_ROWS + 1)
    )
    habits = "001,Run,YES_NO,,,1,1,#FF8F00,,,,false\n"
    answer = _import(client, _loop_zip(habits, rows))
    assert answer.status_code == 413, answer.text
    assert f"more than {loop.MAX_ROWS} rows" in answer.json()["error"]["message"]


def test_two_links_of_the_same_pair_at_once_both_succeed_on_postgresql(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home = tmp_path_factory.mktemp("vision-race") / "home"
    with in_process(home, backend="postgresql-local") as (services, client):
        h = services.instances.get("deck").h_instancia
        vid = made(client.post("/visions", json={"title": "race"}))["id"]
        mid = made(client.post("/milestones", json={"title": "race"}))["id"]
        errors: list[BaseException] = []

        def link() -> None:
            try:
                services.visions.link(h, "vision", vid, "milestone", mid)
            except BaseException as exc:  # the assertion below reports it
                errors.append(exc)

        with services.engine.connect() as other:
            other.execute(
                insert(VisionMilestone).values(vision_id=vid, milestone_id=mid, h_instancia=h)
            )  # the first request's row, not committed yet
            second = threading.Thread(target=link)
            second.start()
            deadline = time.monotonic() + 30
            with services.engine.connect() as watch:
                while not watch.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar_one():
                    assert time.monotonic() < deadline, "the second link never waited"
                    time.sleep(0.02)
            other.commit()
        second.join(30)
        assert not second.is_alive() and errors == []
        with services.engine.connect() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(VisionMilestone)
                .where(VisionMilestone.vision_id == vid)
            ).scalar_one()
        assert count == 1
