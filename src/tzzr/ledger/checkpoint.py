"""Checkpoints in the C2SP signed-note format, signed with Ed25519.

    <origin>\\n<tree size>\\n<base64 root hash>\\n[extension lines]\\n
    \\n
    — <key name> <base64(key id ‖ signature)>\\n

The key id is the first 4 bytes of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key) (C2SP
signed-note, Ed25519 key type 0x01); a verifier key is `name+hex(key id)+base64(0x01 ‖
public key)`.
"""

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tzzr.ledger.hashing import check_hash

if TYPE_CHECKING:  # cryptography loads on first signature: ~9 MB the server rarely needs
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ED25519 = b"\x01"
DASH = "\u2014"


class NoteError(ValueError):
    """A note or checkpoint is malformed or carries no valid signature we trust."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> "Checkpoint":
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root, each on a line")
        origin, size, root, *extensions = lines[:-1]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"checkpoint size {size!r} is not a decimal number")
        try:
            raw = base64.b64decode(root, validate=True)
            check_hash(raw, "checkpoint root")
        except ValueError as exc:
            raise NoteError(f"checkpoint root is not a base64 SHA-256 hash: {exc}") from exc
        return cls(origin, int(size), raw, tuple(extensions))


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    return (
        f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(ED25519 + public_key).decode()}"
    )


def parse_verifier_key(vkey: str) -> tuple[str, bytes, bytes]:
    """(name, key id, raw public key) of `name+hexid+base64key`."""
    try:
        name, hex_id, encoded = vkey.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise NoteError(f"not a verifier key (name+keyid+base64): {vkey!r}") from exc
    if raw[:1] != ED25519 or len(raw) != 33:
        raise NoteError("only Ed25519 verifier keys are supported")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise NoteError("verifier key id does not match its name and public key")
    return name, bytes.fromhex(hex_id), raw[1:]


def public_bytes(private: "Ed25519PrivateKey") -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(body: str, name: str, private: "Ed25519PrivateKey") -> str:
    """The signed note: body, a blank line, one signature line."""
    signature = private.sign(body.encode())
    blob = base64.b64encode(key_id(name, public_bytes(private)) + signature).decode()
    return f"{body}\n{DASH} {name} {blob}\n"


def open_note(note: str, verifier_keys: list[str]) -> tuple[Checkpoint, str]:
    """The checkpoint of a signed note and the verifier key that signed it; raises
    NoteError unless one of `verifier_keys` made a valid signature on it."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise NoteError("a signed note needs a blank line before its signatures")
    body += "\n"
    known: dict[tuple[str, bytes], tuple[str, bytes]] = {}
    for vkey in verifier_keys:
        name, kid, raw = parse_verifier_key(vkey)
        known[(name, kid)] = (vkey, raw)
    for line in signatures.split("\n"):
        if not line:
            continue
        if not line.startswith(f"{DASH} "):
            raise NoteError(f"malformed signature line {line!r}")
        try:
            name, encoded = line[2:].rsplit(" ", 1)
            blob = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError(f"malformed signature line {line!r}") from exc
        match = known.get((name, blob[:4]))
        if match is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(match[1]).verify(blob[4:], body.encode())
        except InvalidSignature as exc:
            raise NoteError(f"the signature by {name} (key {blob[:4].hex()}) is invalid") from exc
        return Checkpoint.parse(body), match[0]
    raise NoteError("no signature on this note is by a known key")
