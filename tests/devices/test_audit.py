"""`tzzr audit` checks every sealed device signature against the registered key."""

from sqlalchemy import update

from tests.api.conftest import Api
from tests.devices.keys import DeviceKey
from tests.devices.test_ingest import body, capture, registered
from tzzr.db.engine import write_transaction
from tzzr.db.models_devices import Device
from tzzr.feldman.audit import audit


def test_a_sealed_device_signature_audits_clean_and_a_swapped_key_is_found(api: Api) -> None:
    services, client = api
    deck = services.instances.get("deck")
    key = registered(api, "Ed25519")
    metadata, _, address = capture("audited")
    device = {"id": key.key_id, "signature": key.sign_capture(deck.h_instancia, address)}
    assert client.post("/ingest", json=body(metadata, device)).status_code == 200
    assert client.post("/consolidate").status_code == 200

    def findings() -> list[str]:
        return [str(f) for f in audit(services.engine, services.ledger.keys, services.blobs, deck)]

    assert findings() == []
    other = DeviceKey.make("Ed25519")
    with write_transaction(services.engine) as conn:
        conn.execute(update(Device).values(public_key=other.public_key))
    assert findings() == [
        f"leaf 0: device {key.key_id}'s stored public key hashes to {other.key_id}"
    ]
    with write_transaction(services.engine) as conn:
        conn.execute(update(Device).values(public_key=key.public_key, alg="ES256"))
    assert findings() == [
        "leaf 0: device signature: alg ES256 needs an ECDSA P-256 key; "
        "this public key is another kind"
    ]
