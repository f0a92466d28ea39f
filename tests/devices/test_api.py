"""`/devices`: registering a browser's key, listing, revoking; roles and instances."""

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from tests.api.conftest import Api, key_of
from tests.devices.keys import ALGS, DeviceKey
from tzzr.devices import registry
from tzzr.ledger import device


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


def test_a_key_registered_at_the_same_moment_is_the_same_device(
    shaped_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tabs register one key at once: both read "not there", the second insert
    meets the first one's row (an IntegrityError on PostgreSQL) and answers it, 200."""
    _, client = shaped_api
    key = DeviceKey.make("ES256")
    first = client.post("/devices", json=key.registration())
    assert first.status_code == 201
    reads = {"n": 0}
    real = registry.Devices._row

    def missed_once(conn: Any, h_instancia: str, device_id: str) -> Any:
        reads["n"] += 1
        return None if reads["n"] == 1 else real(conn, h_instancia, device_id)

    monkeypatch.setattr(registry.Devices, "_row", staticmethod(missed_once))
    second = client.post("/devices", json=key.registration("the other tab"))
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert reads["n"] == 2  # the check missed it; the insert met it and read it back
    # the transaction went on after the refused insert: the instance still writes
    monkeypatch.setattr(registry.Devices, "_row", staticmethod(real))
    other = DeviceKey.make("Ed25519")
    assert client.post("/devices", json=other.registration()).status_code == 201
    assert len(client.get("/devices").json()["devices"]) == 2


def _compressed_spki(key: DeviceKey) -> bytes:
    """The SPKI DER of a P-256 key with its point compressed (RFC 5480 §2.2 allows it;
    cryptography only writes the uncompressed form)."""
    point: bytes = key.private.public_key().public_bytes(
        Encoding.X962, PublicFormat.CompressedPoint
    )
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")  # ecPublicKey, P-256
    bits = b"\x03" + bytes([len(point) + 1]) + b"\x00" + point
    return b"\x30" + bytes([len(algorithm) + len(bits)]) + algorithm + bits


def test_a_p256_key_is_one_device_compressed_or_not(api: Api) -> None:
    """The SPKI is re-encoded (the point uncompressed, as WebCrypto exports it) before
    its id is taken: the same key sent compressed is the same device."""
    _, client = api
    key = DeviceKey.make("ES256")
    compressed = _compressed_spki(key)
    assert load_der_public_key(compressed).public_numbers() == (  # type: ignore[union-attr]
        key.private.public_key().public_numbers()
    )
    body = {
        "name": "compressed",
        "alg": "ES256",
        "public_key": base64.b64encode(compressed).decode(),
    }
    made = client.post("/devices", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["id"] == key.key_id  # the SHA-256 of the uncompressed SPKI
    assert made.json()["public_key"] == key.public_key
    assert device.public_key_der("ES256", body["public_key"]) == key.spki
    assert client.post("/devices", json=key.registration()).status_code == 200
    assert len(client.get("/devices").json()["devices"]) == 1
