"""tzzr.ledger.device: keys in both forms, both algorithms, and every way a signature
or key can be wrong."""

import base64

import pytest

from tests.devices.keys import ALGS, DeviceKey
from tzzr.ledger import device

H = "ab" * 32
E = "cd" * 32


def test_the_message_is_domain_separated() -> None:
    assert device.message(H, E) == f"tzzr-capture/1\n{H}\n{E}".encode()


@pytest.mark.parametrize("alg", ALGS)
def test_a_signature_verifies_and_the_key_id_is_the_spki_hash(alg: str) -> None:
    key = DeviceKey.make(alg)
    spki = device.public_key_der(alg, key.public_key)
    assert spki == key.spki
    assert device.public_key_der(alg, key.jwk()) == key.spki  # a JWK is the same key
    assert device.key_id(spki) == key.key_id and len(key.key_id) == 64
    device.verify_signature(alg, spki, device.message(H, E), key.sign_capture(H, E))


@pytest.mark.parametrize("alg", ALGS)
def test_a_signature_over_anything_else_is_refused(alg: str) -> None:
    key = DeviceKey.make(alg)
    good = key.sign_capture(H, E)
    for other in (device.message(E, H), device.message(H, H), E.encode()):
        with pytest.raises(device.SignatureError, match="does not verify"):
            device.verify_signature(alg, key.spki, other, good)
    raw = bytearray(device.b64url_decode(good))
    raw[5] ^= 1
    with pytest.raises(device.SignatureError, match="does not verify"):
        device.verify_signature(alg, key.spki, device.message(H, E), device.b64url(bytes(raw)))
    with pytest.raises(device.SignatureError, match="64 bytes"):
        device.verify_signature(alg, key.spki, device.message(H, E), good[:40])
    with pytest.raises(device.SignatureError, match="base64url"):
        device.verify_signature(alg, key.spki, device.message(H, E), "not base64!")
    other_key = DeviceKey.make(alg)
    with pytest.raises(device.SignatureError, match="does not verify"):
        device.verify_signature(alg, other_key.spki, device.message(H, E), good)


def test_an_ecdsa_signature_in_der_is_refused() -> None:
    # WebCrypto gives r||s; a DER signature (70-72 bytes) is another encoding
    key = DeviceKey.make("ES256")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    der = key.private.sign(device.message(H, E), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(device.SignatureError, match="64 bytes"):
        device.verify_signature("ES256", key.spki, device.message(H, E), device.b64url(der))


def test_keys_of_another_kind_are_refused() -> None:
    ed, p256 = DeviceKey.make("Ed25519"), DeviceKey.make("ES256")
    with pytest.raises(device.DeviceKeyError, match="needs an Ed25519 key"):
        device.public_key_der("Ed25519", p256.public_key)
    with pytest.raises(device.DeviceKeyError, match="needs an ECDSA P-256 key"):
        device.public_key_der("ES256", ed.public_key)
    with pytest.raises(device.DeviceKeyError, match="alg must be one of"):
        device.public_key_der("RS256", ed.public_key)
    with pytest.raises(device.DeviceKeyError, match="SubjectPublicKeyInfo"):
        device.public_key_der("Ed25519", base64.b64encode(b"\x30\x03junk").decode())
    with pytest.raises(device.DeviceKeyError, match="not base64"):
        device.public_key_der("Ed25519", "***")
    with pytest.raises(device.DeviceKeyError, match="JWK"):
        device.public_key_der("Ed25519", p256.jwk())
    off_curve = {**p256.jwk(), "y": device.b64url((1).to_bytes(32))}
    with pytest.raises(device.DeviceKeyError, match="not a valid ES256"):
        device.public_key_der("ES256", off_curve)
    with pytest.raises(device.DeviceKeyError, match="base64 of its SPKI"):
        device.public_key_der("Ed25519", "A" * 1000)
