"""Device keys made with `cryptography`, signing the way WebCrypto does (Ed25519, and
ECDSA P-256 as raw r||s)."""

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tzzr.ledger import device

ALGS = ["Ed25519", "ES256"]


@dataclass(frozen=True)
class DeviceKey:
    alg: str
    private: Any

    @classmethod
    def make(cls, alg: str) -> "DeviceKey":
        if alg == "Ed25519":
            return cls(alg, ed25519.Ed25519PrivateKey.generate())
        return cls(alg, ec.generate_private_key(ec.SECP256R1()))

    @property
    def spki(self) -> bytes:
        return bytes(
            self.private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        )

    @property
    def public_key(self) -> str:  # as the browser sends it: base64 of exportKey("spki")
        return base64.b64encode(self.spki).decode()

    @property
    def key_id(self) -> str:
        return device.key_id(self.spki)

    def jwk(self) -> dict[str, str]:
        if self.alg == "Ed25519":
            raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": device.b64url(raw)}
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": device.b64url(numbers.x.to_bytes(32)),
            "y": device.b64url(numbers.y.to_bytes(32)),
        }

    def sign(self, data: bytes) -> str:
        if self.alg == "Ed25519":
            return device.b64url(self.private.sign(data))
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        return device.b64url(r.to_bytes(32) + s.to_bytes(32))

    def sign_capture(self, h_instancia: str, h_entrada: str) -> str:
        return self.sign(device.message(h_instancia, h_entrada))

    def registration(self, name: str = "test phone") -> dict[str, Any]:
        return {"name": name, "alg": self.alg, "public_key": self.public_key}
