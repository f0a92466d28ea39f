"""Capture devices' signatures, pure: the message a device signs over a capture's
address, its key's id, and the check. The ingest checks a signature with it before
anything is stored, and `tzzr.ledger.receipt.verify` checks it again offline.

A device key is Ed25519 (RFC 8032) or ECDSA P-256 with SHA-256 ("ES256", RFC 7518 §3.4:
the signature is the raw 64-byte r||s that WebCrypto gives, not DER). The public key
travels as base64 of its SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7) or as a JWK
(RFC 7517 / RFC 8037). The server keeps the key re-encoded (a P-256 point uncompressed,
as WebCrypto exports it), so one key has one DER however it was sent; its id is the
SHA-256 of that DER, in hex.
"""

import base64
import binascii
import hashlib
import re
from typing import Any

DOMAIN = "tzzr-capture/1"
ALGORITHMS = ("Ed25519", "ES256")
_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_MAX_SPKI_CHARS = 400  # an Ed25519 SPKI is 44 bytes, a P-256 one 91


class DeviceKeyError(ValueError):
    """The public key is not a key of the algorithm it claims; the message says why."""


class SignatureError(ValueError):
    """The signature does not verify; the message says why."""


def message(h_instancia: str, h_entrada: str) -> bytes:
    """What a device signs: the domain, the instance and the capture's address, one a
    line, so a signature is never valid for another purpose or another instance."""
    return f"{DOMAIN}\n{h_instancia}\n{h_entrada}".encode()


def key_id(spki: bytes) -> str:
    return hashlib.sha256(spki).hexdigest()


def b64url_decode(text: str) -> bytes:
    """RFC 4648 §5 base64url, padding optional; ValueError for anything else."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise ValueError("not base64url (A-Z, a-z, 0-9, '-', '_')")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not base64url: {exc}") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _spki(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return bytes(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


def _load(alg: str, spki: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    if alg not in ALGORITHMS:
        raise DeviceKeyError(f"alg must be one of {', '.join(ALGORITHMS)}, got {alg!r}")
    try:
        key = load_der_public_key(spki)
    except (ValueError, TypeError) as exc:
        raise DeviceKeyError("the public key is not a SubjectPublicKeyInfo (DER)") from exc
    if alg == "Ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if (
        alg == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    wanted = "an Ed25519 key" if alg == "Ed25519" else "an ECDSA P-256 key"
    raise DeviceKeyError(f"alg {alg} needs {wanted}; this public key is another kind")


def _spki_from_jwk(alg: str, jwk: dict[str, Any]) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    key: Any
    try:
        if alg == "Ed25519" and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            key = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        elif alg == "ES256" and jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = (int.from_bytes(b64url_decode(jwk[c]), "big") for c in ("x", "y"))
            key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        else:
            wanted = (
                '{"kty": "OKP", "crv": "Ed25519"}'
                if alg == "Ed25519"
                else '{"kty": "EC", "crv": "P-256"}'
            )
            raise DeviceKeyError(f"alg {alg} needs a JWK with {wanted}")
    except (KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, DeviceKeyError):
            raise
        raise DeviceKeyError(f"the JWK is not a valid {alg} public key: {exc}") from exc
    return _spki(key)


def public_key_der(alg: str, public_key: str | dict[str, Any]) -> bytes:
    """The SPKI DER of `public_key` (base64 or base64url of the DER, or a JWK), checked
    to be a key of `alg` and re-encoded (a P-256 point uncompressed), so a key sent
    compressed and the same key sent uncompressed have one DER and one id;
    DeviceKeyError otherwise."""
    if isinstance(public_key, dict):
        spki = _spki_from_jwk(alg, public_key)
    elif isinstance(public_key, str) and 0 < len(public_key) <= _MAX_SPKI_CHARS:
        try:
            spki = b64url_decode(public_key.replace("+", "-").replace("/", "_"))
        except ValueError as exc:
            raise DeviceKeyError(f"the public key is not base64: {exc}") from exc
    else:
        raise DeviceKeyError("the public key must be base64 of its SPKI DER, or a JWK object")
    return _spki(_load(alg, spki))


def verify_signature(alg: str, spki: bytes, signed: bytes, signature: str) -> None:
    """Check `signature` (base64url) over `signed` with the device key; SignatureError
    with the reason otherwise (DeviceKeyError for a key that is not `alg`'s)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    key = _load(alg, spki)
    try:
        raw = b64url_decode(signature)
    except ValueError as exc:
        raise SignatureError(f"the signature is {exc}") from exc
    if len(raw) != 64:
        raise SignatureError(f"an {alg} signature is 64 bytes, this one is {len(raw)}")
    try:
        if alg == "Ed25519":
            key.verify(raw, signed)
        else:  # WebCrypto's ECDSA signature is r||s; cryptography wants DER
            der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureError("the signature does not verify with the device's key") from None
