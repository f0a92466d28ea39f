"""A signed capture's receipt: the device is sealed into the leaf, `verify` (and
`tzzr verify`, offline) checks its signature, and each tampering is refused."""

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.devices.keys import ALGS, DeviceKey
from tests.devices.test_ingest import body, capture, registered
from tzzr.ledger.device import b64url, b64url_decode
from tzzr.ledger.receipt import ReceiptError, verify

Sealed = tuple[Api, DeviceKey, dict[str, Any]]


@pytest.fixture(params=ALGS)
def sealed(api: Api, request: pytest.FixtureRequest) -> Sealed:
    services, client = api
    deck = services.instances.get("deck").h_instancia
    key = registered(api, request.param)
    metadata, _, address = capture("sealed with its device")
    device = {"id": key.key_id, "signature": key.sign_capture(deck, address)}
    assert client.post("/ingest", json=body(metadata, device)).status_code == 200
    assert client.post("/ingest", json=body({"unsigned": True})).status_code == 200
    assert client.post("/consolidate").status_code == 200
    receipt = client.get(f"/receipt/{address}").json()
    return api, key, receipt


def test_the_leaf_binds_the_device_and_the_receipt_verifies_it(sealed: Sealed) -> None:
    (_, client), key, receipt = sealed
    leaf = json.loads(receipt["leaf"])
    assert leaf["device"] == key.key_id
    assert leaf["device_sig"] == receipt["device"]["signature"]
    assert receipt["device"] == {
        "id": key.key_id,
        "key_id": key.key_id,
        "name": "test phone",
        "alg": key.alg,
        "public_key": key.public_key,
        "signature": leaf["device_sig"],
    }
    verifier = client.get("/ledger/key").json()
    found = verify(receipt, trusted_keys=[k["verifier_key"] for k in verifier["keys"]])
    assert found.device is not None
    assert (found.device.key_id, found.device.name, found.device.alg) == (
        key.key_id,
        "test phone",
        key.alg,
    )
    # a revoked device's old signatures stay valid
    client.delete(f"/devices/{key.key_id}")
    assert verify(client.get(f"/receipt/{receipt['entry']['h_entrada']}").json()).device


def test_an_unsigned_capture_has_no_device(sealed: Sealed) -> None:
    (_, client), _, _ = sealed
    entries = client.get("/entries").json()["entries"]
    unsigned = next(e for e in entries if e["contenedor"]["metadata"] == {"unsigned": True})
    receipt = client.get(f"/receipt/{unsigned['h_entrada']}").json()
    assert "device" not in receipt and "device" not in json.loads(receipt["leaf"])
    assert verify(receipt).device is None
    with pytest.raises(ReceiptError, match="leaf binds none"):
        verify({**receipt, "device": {"id": "x"}})


def _mutations(receipt: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    def changed(**device: Any) -> dict[str, Any]:
        copied = copy.deepcopy(receipt)
        copied["device"].update(device)
        return copied

    sig = bytearray(b64url_decode(receipt["device"]["signature"]))
    sig[0] ^= 1
    flipped = b64url(bytes(sig))
    leaf = json.loads(receipt["leaf"])
    other = DeviceKey.make(receipt["device"]["alg"])
    forged = other.sign_capture(receipt["entry"]["h_instancia"], receipt["entry"]["h_entrada"])
    resealed = json.dumps(
        {**leaf, "device_sig": flipped}, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )
    no_device = {k: v for k, v in receipt.items() if k != "device"}
    return {
        "signature altered": (changed(signature=flipped), "not the one sealed"),
        "signature altered in the leaf too": (
            {**changed(signature=flipped), "leaf": resealed},
            "device signature",
        ),
        "another key and its own signature": (
            changed(public_key=other.public_key, signature=forged),
            "hashes to",
        ),
        "another key, key_id claimed": (
            changed(public_key=other.public_key, key_id=other.key_id),
            "hashes to",
        ),
        "alg changed": (changed(alg="ES256" if other.alg == "Ed25519" else "Ed25519"), "needs"),
        "key not base64": (changed(public_key="***"), "not base64"),
        "device dropped": (no_device, "no 'device'"),
    }


def test_every_device_tampering_is_rejected(sealed: Sealed) -> None:
    _, _, receipt = sealed
    verify(receipt)
    for name, (bad, words) in _mutations(receipt).items():
        with pytest.raises(ReceiptError, match=words):
            verify(bad)
        assert name


def test_tzzr_verify_shows_the_device_offline(sealed: Sealed, tmp_path: Path) -> None:
    (_, client), key, receipt = sealed
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    pinned = client.get("/ledger/key").json()["keys"][0]["verifier_key"]
    env = {"TZZR_HOME": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    offline = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    prefix = ["unshare", "-n"] if offline else []
    command = [*prefix, sys.executable, "-m", "tzzr", "verify", str(path), "--key", pinned]
    ok = subprocess.run(command, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert f"captured on device 'test phone' ({key.alg}, key {key.key_id})" in ok.stdout
    assert not (tmp_path / "nowhere").exists()
    bad = _mutations(receipt)["signature altered in the leaf too"][0]
    path.write_text(json.dumps(bad))
    failed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "INVALID: device signature: the signature does not verify" in failed.stderr
