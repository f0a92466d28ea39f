"""A capture signed by its device: checked at ingest before anything is stored, kept
with the entry, and the address is the same as without a signature."""

import base64
import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Api, key_of
from tests.devices.keys import ALGS, DeviceKey
from tzzr.canonical import h_entrada
from tzzr.db.models import Entry
from tzzr.db.models_devices import EntrySignature

PHOTO = b"\xff\xd8 a photo from the phone"


@pytest.fixture
def api(shaped_api: Api) -> Api:
    return shaped_api  # this module on both shapes


def capture(note: str) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    metadata = {"note": note, "place": "Café Zürich"}
    files = [
        {
            "name": "photo.jpg",
            "media_type": "image/jpeg",
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "size": len(PHOTO),
        }
    ]
    return metadata, files, h_entrada(metadata, files)


def body(metadata: dict[str, Any], device: dict[str, str] | None = None) -> dict[str, Any]:
    sent: dict[str, Any] = {
        "metadata": metadata,
        "files": [
            {
                "name": "photo.jpg",
                "media_type": "image/jpeg",
                "content": base64.b64encode(PHOTO).decode(),
            }
        ],
    }
    if device is not None:
        sent["device"] = device
    return sent


def registered(api: Api, alg: str = "Ed25519") -> DeviceKey:
    key = DeviceKey.make(alg)
    assert api[1].post("/devices", json=key.registration()).status_code == 201
    return key


def counts(api: Api) -> tuple[int, int, bool]:
    services, _ = api
    deck = services.instances.get("deck")
    with services.engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(Entry)).scalar_one()
        signed = conn.execute(select(func.count()).select_from(EntrySignature)).scalar_one()
    stored = services.ingest.store_for(deck).exists(hashlib.sha256(PHOTO).hexdigest())
    return int(entries), int(signed), stored


@pytest.mark.parametrize("alg", ALGS)
def test_a_signed_capture_is_accepted_and_kept_with_its_entry(api: Api, alg: str) -> None:
    services, client = api
    deck = services.instances.get("deck").h_instancia
    key = registered(api, alg)
    metadata, _, address = capture(f"signed with {alg}")
    device = {"id": key.key_id, "signature": key.sign_capture(deck, address)}
    taken = client.post("/ingest", json=body(metadata, device), headers=key_of(api, "ingest"))
    assert taken.status_code == 200, taken.text
    assert taken.json()["h_entrada"] == address  # the device field is not in the address
    with services.engine.connect() as conn:
        row = conn.execute(select(EntrySignature)).one()
    assert (row.device_id, row.signature, row.h_instancia) == (
        key.key_id,
        device["signature"],
        deck,
    )
    again = client.post("/ingest", json=body(metadata, device))
    assert again.status_code == 409  # a duplicate stays a duplicate
    assert counts(api)[:2] == (1, 1)


def test_multipart_takes_the_device_field_before_or_after_the_files(api: Api) -> None:
    services, client = api
    deck = services.instances.get("deck").h_instancia
    key = registered(api, "ES256")
    for where in ("before", "after"):
        metadata, _, address = capture(f"multipart, device {where}")
        device = json.dumps({"id": key.key_id, "signature": key.sign_capture(deck, address)})
        parts: list[tuple[str, tuple[str | None, bytes, str]]] = [
            ("metadata", (None, json.dumps(metadata).encode(), "application/json")),
            ("file", ("photo.jpg", PHOTO, "image/jpeg")),
        ]
        field = ("device", (None, device.encode(), "application/json"))
        parts.insert(1 if where == "before" else 2, field)
        taken = client.post("/ingest", files=parts)
        assert taken.status_code == 200, taken.text
        assert taken.json()["h_entrada"] == address
    assert counts(api)[:2] == (2, 2)


def refused(api: Api, device: Any, field: str, words: str) -> None:
    metadata, _, _ = capture("refused")
    answer = api[1].post("/ingest", json=body(metadata, device))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert words in answer.json()["error"]["message"]
    assert counts(api) == (0, 0, False)  # no entry, no signature, no blob


@pytest.mark.parametrize("alg", ALGS)
def test_a_bad_signature_is_refused_and_nothing_is_written(api: Api, alg: str) -> None:
    deck = api[0].instances.get("deck").h_instancia
    key = registered(api, alg)
    _, _, address = capture("refused")
    good = key.sign_capture(deck, address)
    other = key.sign_capture(deck, capture("another capture")[2])
    refused(api, {"id": key.key_id, "signature": other}, "device.signature", address)
    corp = api[0].instances.get("corp").h_instancia
    wrong_instance = key.sign_capture(corp, address)
    refused(api, {"id": key.key_id, "signature": wrong_instance}, "device.signature", "verify")
    refused(api, {"id": key.key_id, "signature": good[:-4]}, "device.signature", "64 bytes")
    refused(api, {"id": key.key_id, "signature": "%%%"}, "device.signature", "base64url")
    stranger = DeviceKey.make(alg)  # signs well, but nobody registered it
    signed = stranger.sign_capture(deck, address)
    refused(api, {"id": stranger.key_id, "signature": signed}, "device.id", "not registered")


def test_a_revoked_or_unknown_device_is_refused(api: Api) -> None:
    services, client = api
    deck = services.instances.get("deck").h_instancia
    key = registered(api)
    _, _, address = capture("refused")
    claim = {"id": key.key_id, "signature": key.sign_capture(deck, address)}
    assert client.delete(f"/devices/{key.key_id}").status_code == 200
    refused(api, claim, "device.id", "revoked")
    refused(api, {**claim, "id": "nope"}, "device.id", "not registered")


def test_another_instances_device_cannot_sign_here(api: Api) -> None:
    services, client = api
    corp_key, _ = services.keys.create("corp", "admin")
    key = DeviceKey.make("Ed25519")
    corp = {"Authorization": f"Bearer {corp_key}"}
    assert client.post("/devices", json=key.registration(), headers=corp).status_code == 201
    deck = services.instances.get("deck").h_instancia
    _, _, address = capture("refused")
    claim = {"id": key.key_id, "signature": key.sign_capture(deck, address)}
    refused(api, claim, "device.id", "not registered")


@pytest.mark.parametrize(
    ("device", "field"),
    [
        ("a string", "device"),
        ({"id": "x"}, "device.signature"),
        ({"signature": "x"}, "device.id"),
        ({"id": "x", "signature": "y", "more": 1}, "device.more"),
        ({"id": "x" * 65, "signature": "y"}, "device.id"),
    ],
)
def test_a_malformed_device_names_the_field(api: Api, device: Any, field: str) -> None:
    metadata, _, _ = capture("malformed")
    answer = api[1].post("/ingest", json=body(metadata, device))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert counts(api) == (0, 0, False)


def test_a_malformed_multipart_device_names_the_field(api: Api) -> None:
    metadata, _, _ = capture("malformed")
    for raw, field in ((b"{not json", "device"), (b"[1]", "device"), (b'{"id": 1}', "device.id")):
        parts = [
            ("metadata", (None, json.dumps(metadata).encode(), "application/json")),
            ("device", (None, raw, "application/json")),
            ("file", ("photo.jpg", PHOTO, "image/jpeg")),
        ]
        answer = api[1].post("/ingest", files=parts)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == field, answer.json()
    assert counts(api) == (0, 0, False)


def test_a_capture_ingested_by_reference_is_signed_the_same_way(api: Api) -> None:
    services, client = api
    deck = services.instances.get("deck").h_instancia
    key = registered(api, "ES256")
    uploaded = client.post(
        "/uploads",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(PHOTO)),
            "Content-Type": "application/offset+octet-stream",
        },
        content=PHOTO,
    )
    assert uploaded.status_code == 201, uploaded.text
    metadata, files, address = capture("sent through tus")
    device = {"id": key.key_id, "signature": key.sign_capture(deck, address)}
    named = {k: v for k, v in files[0].items() if k != "size"}  # the upload's digest, no bytes
    taken = client.post("/ingest", json={"metadata": metadata, "files": [named], "device": device})
    assert taken.status_code == 200, taken.text
    assert taken.json()["h_entrada"] == address
    assert counts(api) == (1, 1, True)
