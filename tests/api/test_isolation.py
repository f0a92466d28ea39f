"""The isolation suite, generated from the served OpenAPI document: every operation,
called with another instance's keys on the first instance's objects, answers 404 (or 403
for a role) and changes nothing; no answer to another instance carries the first one's
data. A new route is covered the moment it is served: its path parameters must be named
in OBJECTS (or the test says so), and its role is read from `x-tzzr-role`."""

import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from tests.conftest import Live, make_settings, running
from tests.devices.keys import DeviceKey
from tzzr.api.roles import ADMITS, operation_roles
from tzzr.db.engine import write_transaction
from tzzr.db.models import SentinelAlert
from tzzr.db.models import utcnow as now

SHAPES = ["sqlite-local", "postgresql-s3"]
REMOTE = "http://127.0.0.1:9/deck-remote-path"  # listed below; never reached
FILE = b"deck's own bytes, never corp's"
DECK_FLOW = {
    "id": "deck-only",
    "trigger": {"on": "manual"},
    "steps": [{"id": "a", "cell": "test-echo", "input": "entry"}],
    "decision": "true",
}
DECK_DEVICE, CORP_DEVICE = DeviceKey.make("Ed25519"), DeviceKey.make("ES256")
# Every path parameter of the API, and the deck object it names in this suite.
OBJECTS = (
    "h_entrada",
    "sha256",
    "flow_id",
    "cell_id",
    "run_id",
    "execution_id",
    "job_id",
    "alert_id",
    "number",
    "sample_id",
    "name",
    "vision_id",
    "milestone_id",
    "action_id",
    "habit_id",
    "checkin_id",
    "key_result_id",
    "upload_id",
    "device_id",
    "item_id",
)
# tus requests carry these; corp's PATCH would append to deck's upload if it were found
TUS_HEADERS = {
    "Tus-Resumable": "1.0.0",
    "Content-Type": "application/offset+octet-stream",
    "Upload-Offset": "10",
    "Upload-Length": "100",
}


@dataclass
class World:
    live: Live
    corp_admin: str
    deck_read: str
    deck_ingest: str
    ids: dict[str, str]  # path parameter -> deck's object
    secrets: list[str]  # what no answer to corp may contain
    document: dict[str, Any]


def _wait(client: httpx.Client, path: str, field: str, done: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    found: dict[str, Any] = client.get(path).json()
    while found[field] not in done:
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
        found = client.get(path).json()
    return found


@pytest.fixture(scope="module", params=SHAPES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    home: Path = tmp_path_factory.mktemp(f"isolation-{request.param}")
    settings = make_settings(home, request.param, remote_allow_hosts=["127.0.0.1:9"])
    with running(settings) as live:
        services = live.services
        deck = services.instances.get("deck")
        services.flows.install_defaults(deck.h_instancia)
        services.add_instance("corp")
        corp_admin, _ = services.keys.create("corp", "admin")
        deck_read, _ = services.keys.create("deck", "read")
        deck_ingest, _ = services.keys.create("deck", "ingest")
        with live.client() as client:
            entry = client.post(
                "/ingest",
                data={"metadata": json.dumps({"note": "deck-secret-note"})},
                files={"file": ("deck.txt", FILE, "text/plain")},
            )
            assert entry.status_code == 200, entry.text
            h_entrada = entry.json()["h_entrada"]
            assert client.post("/consolidate").status_code == 200
            block = client.get("/bloque/1").json()
            assert "block_hash" in block, block
            assert client.post("/flows", json=DECK_FLOW).status_code == 201
            cell = {
                "id": "deck-remote",
                "type": "test",
                "version": "1.0.0",
                "apiEndpoint": "/api/cells/deck-remote/run",
                "microserviceUrl": REMOTE,
                "module": "TEST_ECHO",
                "accepts": ["bytes"],
                "token": "deck-remote-token",
            }
            registered = client.post("/api/admin/cells", json=cell)
            assert registered.status_code == 201, registered.text
            run = client.post(
                "/api/cells/test-echo/run",
                json={
                    "runId": "deck-run-1",
                    "input": {"type": "bytes", "encoding": "base64", "content": "eA=="},
                },
            )
            assert run.status_code == 202, run.text
            execution = client.post("/execute", json={"flow": "deck-only", "h_entrada": h_entrada})
            assert execution.status_code == 202, execution.text
            job = client.post("/api/cells/test-echo/specialize", json={"prompt": "deck's own"})
            assert job.status_code == 202, job.text
            _wait(client, f"/api/jobs/{job.json()['jobId']}", "status", ("done", "failed"))
            document = client.get("/openapi.json").json()
            vision = client.post("/visions", json={"title": "deck-secret-vision"}).json()
            linked = {
                "milestoneIds": [
                    vision_milestone := client.post(
                        "/milestones",
                        json={"title": "deck-secret-milestone", "visionIds": [vision["id"]]},
                    ).json()["id"]
                ]
            }
            action = client.post("/actions", json={"title": "deck-secret-action", **linked})
            habit = client.post("/habits", json={"name": "deck-secret-habit", **linked}).json()
            checkin = client.post(
                f"/habits/{habit['id']}/checkins", json={"note": "deck-secret-checkin"}
            ).json()
            result = client.post(
                "/key-results", json={"title": "deck-secret-result", "targetValue": 9, **linked}
            ).json()
            refined = client.post(
                "/factory/refine",
                json={"target": {"vision": vision["id"]}, "goal": "deck-secret-goal"},
            )
            assert refined.status_code == 202, refined.text
            _wait(client, refined.headers["Location"], "status", ("done", "failed"))
            created = client.post("/uploads", headers=TUS_HEADERS, content=b"deck-bytes")
            assert created.status_code == 201, created.text
            upload_id = created.headers["Location"].rsplit("/", 1)[1]
            device = client.post("/devices", json=DECK_DEVICE.registration("deck-secret-phone"))
            assert device.status_code == 201, device.text
        with write_transaction(services.engine) as conn:
            alert_id = conn.execute(
                insert(SentinelAlert)
                .values(
                    rule="failure_rate",
                    h_instancia=deck.h_instancia,
                    severity="warning",
                    state="open",
                    message="deck-secret-alert",
                    data={},
                    opened_at=now(),
                    last_seen=now(),
                    notified=False,
                )
                .returning(SentinelAlert.id)
            ).scalar_one()
        ids = {
            "h_entrada": h_entrada,
            "sha256": hashlib.sha256(FILE).hexdigest(),
            "flow_id": "deck-only",
            "cell_id": "deck-remote",
            "run_id": "deck-run-1",
            "execution_id": execution.json()["executionId"],
            "job_id": refined.json()["jobId"],  # a job at /api/jobs too
            "alert_id": str(alert_id),
            "number": "1",
            "sample_id": "default",
            "name": "thumb.webp",
            "vision_id": str(vision["id"]),
            "milestone_id": str(vision_milestone),
            "action_id": str(action.json()["id"]),
            "habit_id": str(habit["id"]),
            "checkin_id": str(checkin["id"]),
            "key_result_id": str(result["id"]),
            "upload_id": upload_id,
            "device_id": DECK_DEVICE.key_id,
            "item_id": "m1",
        }
        secrets = [
            *(ids[k] for k in ("h_entrada", "sha256", "execution_id", "job_id", "upload_id")),
            "deck-only",
            "deck-remote",
            "deck-run-1",
            "deck-secret-note",
            "deck-secret-alert",
            "deck-secret-vision",
            "deck-secret-milestone",
            "deck-secret-action",
            "deck-secret-habit",
            "deck-secret-checkin",
            "deck-secret-result",
            "deck-secret-phone",
            "deck-secret-goal",
            DECK_DEVICE.key_id,
            DECK_DEVICE.public_key,
            "deck-remote-token",
            "deck-remote-path",
            deck.h_instancia,
            block["block_hash"],
        ]
        yield World(live, corp_admin, deck_read, deck_ingest, ids, secrets, document)


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path template): those with path parameters first, so that corp creating
    objects of its own (POST /flows…) comes after every probe of deck's."""
    found = [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "head", "post", "put", "delete", "patch")
    ]
    return sorted(found, key=lambda op: ("{" not in op[1], op[1], op[0]))


def _fill(path: str, ids: dict[str, str]) -> str:
    names = re.findall(r"{(\w+)}", path)
    unknown = [name for name in names if name not in ids]
    assert not unknown, (
        f"{path}: add {unknown} to OBJECTS in this suite (and give it a deck object)"
    )
    for name in names:
        path = path.replace("{" + name + "}", ids[name])
    return path


def _body(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    """A well-formed body aimed at deck's objects, for the operations that take one."""
    blob = {"type": "bytes", "encoding": "blob", "content": ids["sha256"]}
    envelope = {"contract_version": "2.1", "routing": {"module": "TEST_ECHO"}, "payload": blob}
    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/execute"): {"flow": "receipt-ocr", "h_entrada": ids["h_entrada"]},
        ("POST", "/api/cells/{cell_id}/run"): {"input": blob},
        ("POST", "/grace/run"): {"input": envelope},
        ("POST", "/grace/runsync"): {"input": envelope},
        ("PUT", "/enrich/{h_entrada}"): {"fields": {"note": "corp was here"}},
        ("PUT", "/flows/{flow_id}"): {**DECK_FLOW, "decision": "false"},
        ("POST", "/flows"): {**DECK_FLOW, "id": "corp-flow"},
        ("POST", "/api/cells/{cell_id}/specialize"): {"prompt": "corp's"},
        ("POST", "/api/admin/cells"): {
            "id": "corp-remote",
            "type": "test",
            "version": "1.0.0",
            "apiEndpoint": "/x",
            "microserviceUrl": "http://127.0.0.1:9/corp-path",
            "module": "TEST_ECHO",
            "accepts": ["bytes"],
        },
        ("POST", "/devices"): CORP_DEVICE.registration("corp's phone"),
        ("PATCH", "/visions/{vision_id}"): {"title": "corp was here"},
        ("PATCH", "/milestones/{milestone_id}"): {"achieved": True},
        ("PATCH", "/actions/{action_id}"): {"done": True},
        ("PATCH", "/habits/{habit_id}"): {"name": "corp was here"},
        ("PATCH", "/key-results/{key_result_id}"): {"title": "corp was here"},
        ("POST", "/habits/{habit_id}/checkins"): {"note": "corp was here"},
        ("POST", "/key-results/{key_result_id}/checkins"): {"value": 1},
        ("POST", "/milestones"): {"title": "corp's", "visionIds": [int(ids["vision_id"])]},
        ("POST", "/factory/refine"): {"target": {"vision": int(ids["vision_id"])}, "goal": "x"},
        ("POST", "/actions"): {"title": "corp's", "milestoneIds": [int(ids["milestone_id"])]},
        ("POST", "/ingest"): None,  # a capture of corp's own: sent as a form below
    }
    return bodies.get((method, path))


def _call(client: httpx.Client, method: str, template: str, ids: dict[str, str]) -> httpx.Response:
    url = _fill(template, ids)
    if (method, template) == ("POST", "/ingest"):
        return client.post(
            url, data={"metadata": "{}"}, files={"file": ("c", b"corp", "text/plain")}
        )
    if template.startswith("/uploads"):
        return client.request(method, url, headers=TUS_HEADERS, content=b"corp-bytes")
    body = _body(method, template, ids)
    return (
        client.request(method, url, json=body) if body is not None else client.request(method, url)
    )


def _snapshot(world: World) -> dict[str, Any]:
    """What deck's admin sees of deck's objects."""
    ids = world.ids
    views = [
        "/entries",
        f"/entries/{ids['h_entrada']}",
        "/flows",
        "/flows/deck-only",
        "/api/cells/deck-remote",
        "/api/cells/test-echo",
        "/api/runs/deck-run-1",
        f"/executions/{ids['execution_id']}",
        "/sentinel/alerts",
        "/bloques",
        f"/enrich/{ids['h_entrada']}",
        f"/visions/{ids['vision_id']}",
        f"/factory/jobs/{ids['job_id']}",
        f"/habits/{ids['habit_id']}/checkins",
        f"/key-results/{ids['key_result_id']}/checkins",
        f"/uploads/{ids['upload_id']}",
        f"/devices/{ids['device_id']}",
        "/devices",
    ]
    with world.live.client() as client:
        return {view: (r.status_code, r.text) for view in views if (r := client.get(view))}


def _leaks(response: httpx.Response, secrets: list[str]) -> list[str]:
    """Deck's data in an answer, beyond what the caller itself sent (a 404 may name
    the id it was asked for)."""
    try:
        body = response.request.content.decode(errors="replace")
    except httpx.RequestNotRead:  # a multipart upload of corp's own bytes
        body = ""
    sent = str(response.request.url) + body
    text = response.text
    return [secret for secret in secrets if secret and secret in text and secret not in sent]


def test_another_instances_admin_gets_404_and_changes_nothing(world: World) -> None:
    before = _snapshot(world)
    roles = operation_roles(world.document)
    probed = 0
    with world.live.client(world.corp_admin) as corp:
        for method, template in _operations(world.document):
            response = _call(corp, method, template, world.ids)
            where = f"{method} {template} -> {response.status_code}: {response.text[:300]}"
            assert response.status_code < 500, where
            assert not _leaks(response, world.secrets), (
                f"{where} leaks {_leaks(response, world.secrets)}"
            )
            if roles[(method, template)] == "operator":
                assert response.status_code in (401, 403), where
            elif "{" in template and not template.startswith("/app"):
                # Deck's object, named by corp: never found (blocks are numbered per
                # instance, and corp has sealed none yet).
                assert response.status_code == 404, where
            probed += 1
    assert probed >= 60
    assert _snapshot(world) == before


def test_a_run_id_taken_by_another_instance_is_free_here(world: World) -> None:
    with world.live.client(world.corp_admin) as corp:
        mine = corp.post(
            "/api/cells/test-echo/run",
            json={
                "runId": "deck-run-1",
                "input": {"type": "bytes", "encoding": "base64", "content": "eQ=="},
            },
        )
        assert mine.status_code == 202, mine.text  # not 409: deck's id tells corp nothing
        assert (
            corp.get("/api/runs/deck-run-1").json()["input"]["sha256"]
            == hashlib.sha256(b"y").hexdigest()
        )
    with world.live.client() as deck:
        assert (
            deck.get("/api/runs/deck-run-1").json()["input"]["sha256"]
            == hashlib.sha256(b"x").hexdigest()
        )


def test_lists_show_only_the_callers_instance(world: World) -> None:
    with world.live.client(world.corp_admin) as corp:
        flows = {f["id"] for f in corp.get("/flows").json()["flows"]}
        cells = corp.get("/api/cells").json()["cells"]
        versions = corp.get("/api/cells/test-echo").json()["versions"]
    assert "deck-only" not in flows and {"receipt-ocr", "voice-note"} <= flows
    assert "deck-remote" not in {c["id"] for c in cells}
    assert versions == ["1.0.0"]  # deck's specialised 1.1.0 is deck's alone
    with world.live.client() as deck:
        assert "1.1.0" in deck.get("/api/cells/test-echo").json()["versions"]


def _probe(client: httpx.Client, method: str, template: str, ids: dict[str, str]) -> httpx.Response:
    return _call(client, method, template, ids)


def test_the_role_table_holds_for_every_operation(world: World) -> None:
    """Each role is refused (403) what `x-tzzr-role` does not give it, on every operation."""
    keys = {"admin": world.live.admin_key, "read": world.deck_read, "ingest": world.deck_ingest}
    operator, _ = world.live.services.keys.create_operator()
    keys["operator"] = operator
    checked = 0
    for (method, template), needed in operation_roles(world.document).items():
        if needed == "public" or template.startswith("/app"):
            continue
        for role, key in keys.items():
            if role in ADMITS[needed]:
                continue
            with world.live.client(key) as client:
                response = _probe(client, method, template, world.ids)
            assert response.status_code == 403, (
                f"{role} on {method} {template}: {response.status_code}"
            )
            checked += 1
    assert checked > 100


BLOB_ENVELOPE = {
    "contract_version": "2.1",
    "routing": {"module": "TEST_ECHO"},
    "payload": {"type": "bytes", "encoding": "blob", "content": "SHA"},
}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "POST",
            "/api/cells/test-echo/run",
            {"input": {"type": "bytes", "encoding": "blob", "content": "SHA"}},
        ),
        ("POST", "/execute", {"flow": "deck-only", "h_entrada": "ENTRY"}),
        ("POST", "/grace/runsync", {"input": BLOB_ENVELOPE}),
        ("POST", "/grace/run", {"input": BLOB_ENVELOPE}),
    ],
)
def test_an_ingest_key_runs_cells_only_on_bytes_it_sends(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    text = (
        json.dumps(body)
        .replace("SHA", world.ids["sha256"])
        .replace("ENTRY", world.ids["h_entrada"])
    )
    with world.live.client(world.deck_ingest) as client:
        refused = client.request(
            method, path, content=text, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 403, refused.text
        assert "read" in refused.json()["error"]["message"]
    with world.live.client(world.deck_read) as reader:
        # the same request with the read role gets past the role check (a read key may
        # not run anything, so this is 403 for another reason: ingest)
        assert (
            reader.request(
                method, path, content=text, headers={"Content-Type": "application/json"}
            ).status_code
            == 403
        )
    with world.live.client() as admin:
        allowed = admin.request(
            method, path, content=text, headers={"Content-Type": "application/json"}
        )
        assert allowed.status_code in (200, 202), allowed.text
    inline = base64.b64encode(FILE).decode()
    with world.live.client(world.deck_ingest) as client:
        sent = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "base64", "content": inline}},
        )
        assert sent.status_code in (200, 202), sent.text
