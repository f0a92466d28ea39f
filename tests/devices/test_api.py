"""`/devices`: registering a browser's key, listing, revoking; roles and instances."""

import pytest

from tests.api.conftest import Api, key_of
from tests.devices.keys import ALGS, DeviceKey
from tzzr.devices import registry


@pytest.mark.parametrize("alg", ALGS)
def test_a_device_registers_once_per_key(api: Api, alg: str) -> None:
    _, client = api
    key = DeviceKey.make(alg)
    ingest = key_of(api, "ingest")  # the key a phone signs in with
    made = client.post("/devices", json=key.registration(), headers=ingest)
    assert made.status_code == 201, made.text
    device = made.json()
    assert device["id"] == device["key_id"] == key.key_id
    assert (device["alg"], device["name"], device["revoked_at"]) == (alg, "test phone", None)
    assert device["public_key"] == key.public_key
    assert made.headers["location"] == f"/devices/{key.key_id}"
    again = client.post("/devices", json=key.registration("renamed"), headers=ingest)
    assert again.status_code == 200 and again.json() == device  # the same device, unchanged
    # as a JWK, it is the same key
    as_jwk = {"name": "jwk", "alg": alg, "public_key": key.jwk()}
    assert client.post("/devices", json=as_jwk).json()["id"] == key.key_id
    assert client.get("/devices").json() == {"devices": [device]}
    assert client.get(f"/devices/{key.key_id}").json() == device


def test_roles(api: Api) -> None:
    _, client = api
    key = DeviceKey.make("Ed25519")
    read, ingest = key_of(api, "read"), key_of(api, "ingest")
    assert client.post("/devices", json=key.registration(), headers=read).status_code == 403
    assert client.post("/devices", json=key.registration(), headers=ingest).status_code == 201
    assert client.get("/devices", headers=ingest).status_code == 403
    assert client.get("/devices", headers=read).status_code == 200
    assert client.delete(f"/devices/{key.key_id}", headers=ingest).status_code == 403
    assert client.delete(f"/devices/{key.key_id}", headers=read).status_code == 403
    assert client.get(f"/devices/{key.key_id}").json()["revoked_at"] is None


def test_revoking_keeps_the_device_and_refuses_its_key_again(api: Api) -> None:
    _, client = api
    key = DeviceKey.make("ES256")
    client.post("/devices", json=key.registration())
    revoked = client.delete(f"/devices/{key.key_id}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert client.delete(f"/devices/{key.key_id}").json() == revoked.json()  # idempotent
    assert client.get("/devices").json()["devices"] == [revoked.json()]  # still listed
    again = client.post("/devices", json=key.registration())
    assert again.status_code == 409
    assert again.json()["error"]["field"] == "public_key"
    assert "revoked" in again.json()["error"]["message"]


def test_another_instances_device_is_not_found(api: Api) -> None:
    services, client = api
    corp_key, _ = services.keys.create("corp", "admin")
    corp = {"Authorization": f"Bearer {corp_key}"}
    key = DeviceKey.make("Ed25519")
    client.post("/devices", json=key.registration())
    assert client.get(f"/devices/{key.key_id}", headers=corp).status_code == 404
    assert client.delete(f"/devices/{key.key_id}", headers=corp).status_code == 404
    assert client.get("/devices", headers=corp).json() == {"devices": []}
    # the same key registered in corp is corp's own device: deck's stays as it was
    assert client.post("/devices", json=key.registration("corp's"), headers=corp).status_code == 201
    assert client.get(f"/devices/{key.key_id}").json()["name"] == "test phone"
    assert client.get(f"/devices/{'0' * 64}").status_code == 404
    assert client.get("/devices/not-an-id").status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"alg": "RS256"}, "alg", "alg must be one of"),
        ({"alg": "ES256"}, "public_key", "needs an ECDSA P-256 key"),
        ({"public_key": "bm90IGEga2V5"}, "public_key", "SubjectPublicKeyInfo"),
        ({"public_key": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}}, "public_key", "JWK"),
        ({"name": ""}, "name", ""),
        ({"name": "x" * 201}, "name", ""),
        ({"extra": 1}, "extra", ""),
    ],
)
def test_bad_registrations_name_the_field(
    api: Api, change: dict[str, object], field: str, words: str
) -> None:
    _, client = api
    body = {**DeviceKey.make("Ed25519").registration(), **change}
    refused = client.post("/devices", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == field
    assert words in refused.json()["error"]["message"]
    assert client.get("/devices").json() == {"devices": []}


def test_an_instance_holds_a_bounded_number_of_active_devices(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "MAX_ACTIVE_DEVICES", 2)
    _, client = api
    keys = [DeviceKey.make("Ed25519") for _ in range(3)]
    for key in keys[:2]:
        assert client.post("/devices", json=key.registration()).status_code == 201
    full = client.post("/devices", json=keys[2].registration())
    assert full.status_code == 409 and "revoke" in full.json()["error"]["message"]
    assert client.post("/devices", json=keys[0].registration()).status_code == 200  # known
    client.delete(f"/devices/{keys[0].key_id}")
    assert client.post("/devices", json=keys[2].registration()).status_code == 201
