"""A vision receipt, verified offline (`tzzr vision verify FILE`): the `vision` leaf's
signed checkpoint and RFC 9162 inclusion proof and, for a check-in, that the leaf's hash
is the check-in's record (which habit or key result, which day, which value, which
evidence). Pure: the ledger's verifiers and canonical JSON, no storage."""

import json
from dataclasses import dataclass
from typing import Any

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.ledger.checkpoint import NoteError, open_note
from tzzr.ledger.hashing import hash_leaf
from tzzr.ledger.verify import ProofError, verify_inclusion

FORMAT = "tzzr-vision-receipt/1"


class ReceiptError(ValueError):
    """The receipt does not prove what it claims; the message says what failed."""


@dataclass(frozen=True)
class Verified:
    ref: str
    event: str
    ts: str
    leaf_index: int
    tree_size: int
    origin: str
    signer: str
    record: dict[str, Any] | None
    pinned: bool  # the signature was checked against keys the caller trusts


def _get(found: Any, name: str, kind: type) -> Any:
    value = found.get(name) if isinstance(found, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ReceiptError(f"the receipt's {name!r} is missing or not a {kind.__name__}")
    return value


def verify(receipt: Any, trusted_keys: list[str] | None = None) -> Verified:
    """Check everything the receipt claims; ReceiptError with the first failure. Without
    `trusted_keys` the signature is checked with the keys the receipt carries, which
    proves self-consistency only: pin the instance's key to prove who signed."""
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise ReceiptError(f"not a vision receipt (expected format {FORMAT!r})")
    if receipt.get("sealed") is not True:
        raise ReceiptError("the leaf was not sealed yet when this receipt was taken")
    inclusion = _get(receipt, "inclusion", dict)
    leaf_text = _get(inclusion, "leaf", str)
    try:
        leaf = json.loads(leaf_text)
    except ValueError as exc:
        raise ReceiptError(f"the leaf is not JSON: {exc}") from exc
    if not isinstance(leaf, dict) or canonical_json(leaf) != leaf_text.encode():
        raise ReceiptError("the leaf is not in canonical (RFC 8785) form")
    if leaf.get("kind") != "vision":
        raise ReceiptError(f"the leaf's kind is {leaf.get('kind')!r}, not 'vision'")
    record = receipt.get("record")
    if record is not None:
        if not isinstance(record, dict):
            raise ReceiptError("the receipt's 'record' is not an object")
        if sha256_hex(canonical_json(record)) != leaf.get("hash"):
            raise ReceiptError("the record does not hash to the leaf's hash: it was changed")
    keys = trusted_keys or _get(receipt, "verifier_keys", list)
    try:
        checkpoint, signer = open_note(_get(inclusion, "checkpoint", str), keys)
    except NoteError as exc:
        raise ReceiptError(f"checkpoint: {exc}") from exc
    size = _get(inclusion, "tree_size", int)
    index = _get(inclusion, "leaf_index", int)
    if checkpoint.size != size:
        raise ReceiptError(f"the checkpoint is for {checkpoint.size} leaves, the proof for {size}")
    try:
        proof = [bytes.fromhex(p) for p in _get(inclusion, "proof", list)]
        verify_inclusion(hash_leaf(leaf_text.encode()), index, size, proof, checkpoint.root)
    except (ProofError, ValueError, TypeError) as exc:
        raise ReceiptError(f"inclusion proof: {exc}") from exc
    return Verified(
        str(leaf.get("ref")),
        str(leaf.get("event")),
        str(leaf.get("ts")),
        index,
        size,
        checkpoint.origin,
        signer,
        record,
        bool(trusted_keys),
    )
