"""VISION BUILDER over HTTP on SQLite and PostgreSQL: the tree and its roll-up by weight,
many-to-many links, evidence naming the instance's entries, check-ins sealed with a
receipt, roles, clear 4xx, Loop's CSV export round-tripped and iCalendar read back with
another library (vobject)."""

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vobject
from typer.testing import CliRunner

from tests.api.conftest import Api, in_process, key_of
from tzzr.cli import app as cli
from tzzr.feldman.audit import audit
from tzzr.ledger.hashing import hash_leaf
from tzzr.ledger.verify import verify_inclusion

BACKENDS = ["sqlite-local", "postgresql-local"]


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("vision") / "home", backend=request.param) as made:
        yield made


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_progress_rolls_up_by_weight_through_shared_milestones(api: Api) -> None:
    _, client = api
    one = ok(client.post("/visions", json={"title": "Run a marathon"}), 201)
    two = ok(client.post("/visions", json={"title": "Be healthy"}), 201)
    assert one["progress"] == 0 and one["leafIndex"] is not None
    shared = ok(
        client.post(
            "/milestones",
            json={"title": "Run 10 km", "weight": 3, "visionIds": [one["id"], two["id"]]},
        ),
        201,
    )
    other = ok(client.post("/milestones", json={"title": "Sign up", "visionIds": [one["id"]]}), 201)
    a = ok(client.post("/actions", json={"title": "Shoes", "milestoneIds": [shared["id"]]}), 201)
    b = ok(
        client.post(
            "/actions",
            json={
                "title": "Plan",
                "weight": 3,
                "due": "2027-01-10",
                "milestoneIds": [shared["id"]],
            },
        ),
        201,
    )
    kr = ok(
        client.post(
            "/key-results",
            json={
                "title": "km/week",
                "startValue": 0,
                "targetValue": 40,
                "milestoneIds": [other["id"]],
            },
        ),
        201,
    )
    done = ok(client.patch(f"/actions/{b['id']}", json={"done": True}))
    assert done["done"] and done["leafIndex"] is not None
    kr_checkin = ok(client.post(f"/key-results/{kr['id']}/checkins", json={"value": 10}), 201)
    tree = ok(client.get(f"/visions/{one['id']}"))
    by_title = {m["title"]: m for m in tree["milestones"]}
    assert by_title["Run 10 km"]["progress"] == pytest.approx(0.75)  # 3 of 4 by weight
    assert by_title["Sign up"]["progress"] == pytest.approx(0.25)  # 10 of 40
    assert tree["progress"] == pytest.approx((0.75 * 3 + 0.25) / 4)
    # the same milestone counts in the other vision, computed there too
    assert ok(client.get(f"/visions/{two['id']}"))["progress"] == pytest.approx(0.75)
    ok(client.patch(f"/milestones/{other['id']}", json={"achieved": True}))
    assert ok(client.get(f"/visions/{one['id']}"))["progress"] == pytest.approx((0.75 * 3 + 1) / 4)
    # detach and attach again: links are many-to-many and idempotent
    ok(client.delete(f"/milestones/{shared['id']}/actions/{a['id']}"), 204)
    assert ok(client.get(f"/milestones/{shared['id']}"))["progress"] == 1.0
    ok(client.put(f"/milestones/{shared['id']}/actions/{a['id']}"), 204)
    ok(client.put(f"/milestones/{shared['id']}/actions/{a['id']}"), 204)
    assert ok(client.get(f"/milestones/{shared['id']}"))["progress"] == pytest.approx(0.75)
    ok(client.post("/consolidate"))
    kr_receipt = ok(client.get(f"/key-results/{kr['id']}/checkins/{kr_checkin['id']}/receipt"))
    assert kr_receipt["sealed"] and kr_receipt["record"]["value"] == 10
    assert ok(client.get(f"/milestones/{other['id']}/receipt"))["sealed"]
    assert ok(client.get(f"/actions/{b['id']}/receipt"))["sealed"]
    assert client.get(f"/actions/{a['id']}/receipt").status_code == 404  # not done: no leaf
    listed = {v["id"]: v for v in ok(client.get("/visions"))["visions"]}
    assert listed[one["id"]]["progress"] == pytest.approx((0.75 * 3 + 1) / 4)


def _offline(receipt: dict[str, Any], tmp_path: Path) -> None:
    """`tzzr vision verify` accepts the receipt, pinned to its key too, and refuses it
    with its record changed or another key."""
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    runner = CliRunner()
    done = runner.invoke(cli, ["vision", "verify", str(path), "--key", receipt["verifier_keys"][0]])
    assert done.exit_code == 0 and "VERIFIED" in done.stdout and "the key given" in done.stdout
    changed = {**receipt, "record": {**receipt["record"], "value": 99.0}}
    path.write_text(json.dumps(changed))
    refused = runner.invoke(cli, ["vision", "verify", str(path)])
    assert refused.exit_code == 1 and "does not hash to the leaf" in refused.stderr
    path.write_text(json.dumps(receipt))
    other = "deck+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    wrong = runner.invoke(cli, ["vision", "verify", str(path), "--key", other])
    assert wrong.exit_code == 1 and "NOT VERIFIED" in wrong.stderr


def test_habits_check_in_with_streak_strength_and_a_sealed_receipt(
    api: Api, tmp_path: Path
) -> None:
    services, client = api
    habit = ok(client.post("/habits", json={"name": "Stretch", "tz": "Europe/Madrid"}), 201)
    today = habit["today"]
    first = ok(client.post(f"/habits/{habit['id']}/checkins", json={}), 201)
    assert first["day"] == today
    conflict = client.post(f"/habits/{habit['id']}/checkins", json={"day": today})
    assert conflict.status_code == 409
    seen = ok(client.get(f"/habits/{habit['id']}"))
    assert seen["currentStreak"] == 1 and seen["strength"] > 0 and seen["recent"][-1]["done"]
    pending = ok(client.get(f"/habits/{habit['id']}/checkins/{first['id']}/receipt"))
    assert pending["sealed"] is False and pending["leafIndex"] == first["leafIndex"]
    assert pending["format"] == "tzzr-vision-receipt/1" and "next block" in pending["message"]
    ok(client.post("/consolidate"))
    sealed = ok(client.get(f"/habits/{habit['id']}/checkins/{first['id']}/receipt"))
    proof = sealed["inclusion"]
    verify_inclusion(
        hash_leaf(proof["leaf"].encode()),
        proof["leaf_index"],
        proof["tree_size"],
        [bytes.fromhex(p) for p in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )
    assert sealed["verifier_keys"]
    assert sealed["record"] == {"habit": habit["id"], "day": today, "value": 1.0, "evidence": []}
    _offline(sealed, tmp_path)
    deck = services.instances.get("deck")
    assert audit(services.engine, services.ledger.keys, services.blobs, deck, blobs=False) == []
    assert sealed["sealed"] and '"kind":"vision"' in sealed["inclusion"]["leaf"]
    assert f'"ref":"habit/{habit["id"]}/day/{today}"' in sealed["inclusion"]["leaf"]
    events = ok(client.get("/sentinel/events", params={"kind": "vision"}))
    assert any(e["data"].get("change") == "habit.checkin" for e in events["events"])
    # a phone's ingest key checks in; it cannot create or delete
    ingest = key_of(api, "ingest")
    numeric = ok(
        client.post("/habits", json={"name": "Water", "kind": "numeric", "target": 2, "unit": "l"}),
        201,
    )
    ok(client.post(f"/habits/{numeric['id']}/checkins", json={"value": 2.5}, headers=ingest), 201)
    assert client.post("/habits", json={"name": "x"}, headers=ingest).status_code == 403
    assert ok(client.get(f"/habits/{numeric['id']}"))["currentStreak"] == 1


def test_bad_input_is_a_4xx_naming_the_field(api: Api) -> None:
    _, client = api
    vision = ok(client.post("/visions", json={"title": "Errors"}), 201)
    cases = [
        (client.post("/visions", json={"title": ""}), 422, "title"),
        (client.post("/visions", json={"title": "x", "status": "dreaming"}), 422, "status"),
        (client.post("/milestones", json={"title": "m", "weight": 0}), 422, "weight"),
        (
            client.post("/milestones", json={"title": "m", "visionIds": [987654]}),
            422,
            "visionIds[0]",
        ),
        (client.post("/actions", json={"title": "a", "evidence": ["0" * 64]}), 422, "evidence[0]"),
        (client.post("/actions", json={"title": "a", "due": "tomorrow"}), 422, "due"),
        (client.post("/habits", json={"name": "h", "tz": "Mars/Olympus"}), 422, "tz"),
        (client.post("/habits", json={"name": "h", "kind": "numeric"}), 422, "target"),
        (client.post("/habits", json={"name": "h", "times": 5, "intervalDays": 3}), 422, "times"),
        (
            client.post("/key-results", json={"title": "k", "startValue": 1, "targetValue": 1}),
            422,
            "targetValue",
        ),
        (client.get("/visions/987654"), 404, None),
        (client.get("/visions/0"), 422, "vision_id"),
        (client.patch(f"/visions/{vision['id']}", json={"colour": "red"}), 422, "colour"),
        (
            client.post(
                "/habits/import", content=b"not,a,loop,file\n", headers={"Content-Type": "text/csv"}
            ),
            422,
            "file",
        ),
    ]
    for response, status, field in cases:
        assert response.status_code == status, (response.request.url, response.text)
        if field is not None:
            assert response.json()["error"]["field"] == field, response.text
    habit = ok(client.post("/habits", json={"name": "Future"}), 201)
    future = client.post(f"/habits/{habit['id']}/checkins", json={"day": "2999-01-01"})
    assert future.status_code == 422 and future.json()["error"]["field"] == "day"
    ancient = client.post(f"/habits/{habit['id']}/checkins", json={"day": "0001-01-01"})
    assert ancient.status_code == 422 and "1970-01-01" in ancient.json()["error"]["message"]


def test_evidence_points_to_the_instances_entries(api: Api) -> None:
    _, client = api
    captured = ok(client.post("/ingest", files={"file": ("proof.txt", b"ran 10 km", "text/plain")}))
    h = captured["h_entrada"]
    action = ok(client.post("/actions", json={"title": "Race", "evidence": [h]}), 201)
    assert action["evidence"] == [h]
    habit = ok(client.post("/habits", json={"name": "Proof"}), 201)
    checkin = ok(client.post(f"/habits/{habit['id']}/checkins", json={"evidence": [h]}), 201)
    assert checkin["evidence"] == [h]
    ok(client.get(f"/entries/{h}/previews"))


def test_loop_export_round_trips(api: Api) -> None:
    services, client = api
    run = ok(client.post("/habits", json={"name": "Loop run", "times": 3, "intervalDays": 7}), 201)
    km = ok(
        client.post(
            "/habits",
            json={
                "name": "Loop km",
                "kind": "numeric",
                "target": 5,
                "unit": "km",
                "intervalDays": 7,
            },
        ),
        201,
    )
    for day in ("2026-11-02", "2026-11-04", "2026-11-05"):
        ok(client.post(f"/habits/{run['id']}/checkins", json={"day": day}), 201)
    ok(client.post(f"/habits/{km['id']}/checkins", json={"day": "2026-11-03", "value": 4.5}), 201)
    archive = client.get("/habits/export.zip")
    assert archive.status_code == 200
    files = zipfile.ZipFile(io.BytesIO(archive.content))
    habits_csv = files.read("Habits.csv").decode()
    assert habits_csv.startswith("Position,Name,Type,Question,Description,FrequencyNumerator")
    assert "Loop run,YES_NO,,,3,7" in habits_csv and "NUMERICAL" in habits_csv
    names = files.namelist()
    marks = next(n for n in names if n.endswith("Loop run/Checkmarks.csv"))
    text = files.read(marks).decode()
    assert "2026-11-02,YES_MANUAL" in text and "2026-11-08,YES_AUTO" in text
    assert (
        "2026-11-03,4500"
        in files.read(next(n for n in names if n.endswith("Loop km/Checkmarks.csv"))).decode()
    )
    # into another instance: the same habits and days
    services.add_instance("roundtrip", default_flows=False)
    key, _ = services.keys.create("roundtrip", "admin")
    other = {"Authorization": f"Bearer {key}"}
    imported = ok(
        client.post(
            "/habits/import",
            content=archive.content,
            headers={**other, "Content-Type": "application/zip"},
        )
    )
    assert imported["checkins"] >= 4
    theirs = {h["name"]: h for h in ok(client.get("/habits", headers=other))["habits"]}
    mine = {h["name"]: h for h in ok(client.get("/habits"))["habits"]}
    for name in ("Loop run", "Loop km"):
        for field in ("kind", "times", "intervalDays", "target", "unit", "strength", "bestStreak"):
            assert theirs[name][field] == mine[name][field], (name, field)
        assert _days(client, other, theirs[name]["id"]) == _days(client, {}, mine[name]["id"])
    again = ok(
        client.post(
            "/habits/import",
            content=archive.content,
            headers={**other, "Content-Type": "application/zip"},
        )
    )
    assert again["checkins"] == 0 and not any(h["created"] for h in again["habits"])


def _days(client: Any, headers: dict[str, str], habit_id: int) -> list[tuple[str, float]]:
    found = ok(client.get(f"/habits/{habit_id}/checkins", headers=headers))["checkins"]
    return [(c["day"], c["value"]) for c in found]


def test_actions_export_as_icalendar_read_by_vobject(api: Api) -> None:
    _, client = api
    vision = ok(client.post("/visions", json={"title": "Calendar, vision; here"}), 201)
    milestone = ok(
        client.post("/milestones", json={"title": "M", "visionIds": [vision["id"]]}), 201
    )
    for title, due in (("Book race, 10k; early", "2027-02-01"), ("No date", None)):
        ok(
            client.post(
                "/actions", json={"title": title, "due": due, "milestoneIds": [milestone["id"]]}
            ),
            201,
        )
    response = client.get(f"/visions/{vision['id']}/calendar.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/calendar"
    )
    parsed = vobject.readOne(response.text)
    events = parsed.contents["vevent"]
    assert len(events) == 1
    assert events[0].summary.value == "Book race, 10k; early"
    assert str(events[0].dtstart.value) == "2027-02-01"
    everything = vobject.readOne(client.get("/actions.ics").text)
    assert len(everything.contents["vevent"]) >= 1


def test_loop_import_as_a_form_with_a_time_zone(api: Api) -> None:
    _, client = api
    csv = (
        "Position,Name,Type,Question,Description,FrequencyNumerator,FrequencyDenominator,"
        "Color,Unit,Target Type,Target Value,Archived?\n"
        "001,Form habit,YES_NO,,,1,1,#FF8F00,,,,false\n"
    )
    done = ok(
        client.post(
            "/habits/import",
            params={"tz": "America/Mexico_City"},
            files={"file": ("Habits.csv", csv.encode(), "text/csv")},
        )
    )
    (made,) = done["habits"]
    assert made["created"] and made["checkins"] == 0
    assert ok(client.get(f"/habits/{made['id']}"))["tz"] == "America/Mexico_City"
    empty = client.post(
        "/habits/import", files={"other": ("x", b"", "text/plain")}, data={"a": "b"}
    )
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "file"
    zone = client.post(
        "/habits/import",
        params={"tz": "Nowhere/City"},
        content=csv.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert zone.status_code == 422 and zone.json()["error"]["field"] == "tz"
