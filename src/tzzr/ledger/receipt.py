"""Receipts: an entry, its leaf, an inclusion proof and a signed checkpoint in one JSON
file, verifiable offline: `verify` needs no server and no database (and loads none of
their code). `tzzr.feldman.receipts` builds them from the stored log."""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from tzzr.canonical import canonical_json, h_entrada
from tzzr.ledger import device as devices
from tzzr.ledger.checkpoint import NoteError, open_note
from tzzr.ledger.hashing import hash_leaf
from tzzr.ledger.verify import ProofError, verify_inclusion

FORMAT = "tzzr-receipt/1"


class ReceiptError(ValueError):
    """The receipt does not prove what it claims; the message says why."""


@dataclass(frozen=True)
class SigningDevice:
    """The registered device whose signature over the capture's address the leaf seals."""

    key_id: str
    name: str
    alg: str


@dataclass(frozen=True)
class Verified:
    h_entrada: str
    h_instancia: str
    leaf_index: int
    tree_size: int
    origin: str
    signed_by: str
    timestamp: str
    block: int | None
    file_matched: str | None
    pinned_key: bool
    device: SigningDevice | None = None


def _field(receipt: dict[str, Any], name: str, kind: type) -> Any:
    value = receipt.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ReceiptError(f"the receipt's {name!r} is missing or not a {kind.__name__}")
    return value


def verify(
    receipt: Any, *, file_sha256: str | None = None, trusted_keys: list[str] | None = None
) -> Verified:
    """Check everything a receipt claims; raises ReceiptError with the first failure.

    Without `trusted_keys` the signature is checked against the keys inside the receipt,
    which proves self-consistency only: pin the log's key to prove who signed."""
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ReceiptError(f"not a TZZR receipt (expected format {FORMAT!r})")
    entry = _field(receipt, "entry", dict)
    contenedor = _field(entry, "contenedor", dict)
    address = _field(entry, "h_entrada", str)
    instance = _field(entry, "h_instancia", str)
    try:
        recomputed = h_entrada(contenedor.get("metadata", {}), contenedor.get("files", []))
    except ValueError as exc:
        raise ReceiptError(f"the entry's container cannot be canonicalized: {exc}") from exc
    if recomputed != address:
        raise ReceiptError(f"the entry's container hashes to {recomputed}, not {address}")

    leaf_text = _field(receipt, "leaf", str)
    try:
        leaf = json.loads(leaf_text)
    except ValueError as exc:
        raise ReceiptError(f"the leaf is not JSON: {exc}") from exc
    if canonical_json(leaf) != leaf_text.encode():
        raise ReceiptError("the leaf is not in canonical (RFC 8785) form")
    expected = {"kind": "entry", "ref": address, "hash": address, "instance": instance}
    for key, value in expected.items():
        if leaf.get(key) != value:
            raise ReceiptError(f"the leaf's {key} is {leaf.get(key)!r}, expected {value!r}")

    device = _device(receipt, leaf, instance, address)

    keys = trusted_keys if trusted_keys else _field(receipt, "verifier_keys", list)
    try:
        checkpoint, signer = open_note(_field(receipt, "checkpoint", str), keys)
    except NoteError as exc:
        raise ReceiptError(f"checkpoint: {exc}") from exc
    size = _field(receipt, "tree_size", int)
    index = _field(receipt, "leaf_index", int)
    if checkpoint.size != size:
        raise ReceiptError(f"the checkpoint is for {checkpoint.size} leaves, the proof for {size}")
    try:
        proof = [bytes.fromhex(p) for p in _field(receipt, "inclusion_proof", list)]
        verify_inclusion(hash_leaf(leaf_text.encode()), index, size, proof, checkpoint.root)
    except (ProofError, ValueError, TypeError) as exc:
        raise ReceiptError(f"inclusion proof: {exc}") from exc

    matched = None
    if file_sha256 is not None:
        names = [
            f.get("name") for f in contenedor.get("files", []) if f.get("sha256") == file_sha256
        ]
        if not names:
            raise ReceiptError(f"the file (sha256 {file_sha256}) is not part of this entry")
        matched = str(names[0])
    block = None
    for line in checkpoint.extensions:
        found = re.fullmatch(r"tzzr-block (\d+) [0-9a-f]{64}", line)
        if found:
            block = int(found.group(1))
    return Verified(
        address,
        instance,
        index,
        size,
        checkpoint.origin,
        signer,
        str(leaf.get("ts")),
        block,
        matched,
        bool(trusted_keys),
        device,
    )


def _device(
    receipt: dict[str, Any], leaf: dict[str, Any], instance: str, address: str
) -> SigningDevice | None:
    """The device the leaf binds (`device`: its key's id, `device_sig`), checked: the
    receipt's public key hashes to that id, and the sealed signature verifies over
    `tzzr.ledger.device.message(instance, address)` with it."""
    bound, sealed, claimed = leaf.get("device"), leaf.get("device_sig"), receipt.get("device")
    if bound is None and sealed is None:
        if claimed is not None:
            raise ReceiptError("the receipt names a device, but the leaf binds none")
        return None
    if not isinstance(bound, str) or not isinstance(sealed, str):
        raise ReceiptError("the leaf's device binding needs both 'device' and 'device_sig'")
    if not isinstance(claimed, dict):
        raise ReceiptError(
            f"the leaf binds device {bound}, but the receipt has no 'device' to check it with"
        )
    alg = claimed.get("alg")
    try:
        spki = devices.public_key_der(str(alg), claimed.get("public_key"))  # type: ignore[arg-type]
    except devices.DeviceKeyError as exc:
        raise ReceiptError(f"device: {exc}") from exc
    if devices.key_id(spki) != bound or claimed.get("key_id", bound) != bound:
        raise ReceiptError(
            f"the device's public key hashes to {devices.key_id(spki)}, but the leaf binds "
            f"device {bound}"
        )
    if claimed.get("signature", sealed) != sealed:
        raise ReceiptError("the receipt's device signature is not the one sealed in the leaf")
    try:
        devices.verify_signature(str(alg), spki, devices.message(instance, address), sealed)
    except devices.SignatureError as exc:
        raise ReceiptError(f"device signature: {exc}") from exc
    return SigningDevice(bound, str(claimed.get("name", "")), str(alg))


def file_digest(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:  # noqa: PTH123
        while chunk := handle.read(1024 * 1024):
            sha.update(chunk)
    return sha.hexdigest()
