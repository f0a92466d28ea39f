"""Receipts built from the stored log (`tzzr.ledger.receipt` verifies them offline)."""

import json
from typing import Any

from tzzr.feldman.sealing import Feldman
from tzzr.instances import InstanceInfo
from tzzr.ledger.receipt import FORMAT


def build(
    ledger: Feldman, entry: dict[str, Any], instance: InstanceInfo, tree_size: int | None = None
) -> dict[str, Any]:
    """The entry's receipt against the newest block, or the block of `tree_size`."""
    index = ledger.leaf_index(instance, entry["h_entrada"])
    inclusion = ledger.inclusion(instance, index, tree_size)
    receipt = {
        "format": FORMAT,
        "entry": {
            "h_entrada": entry["h_entrada"],
            "h_instancia": entry["h_instancia"],
            "contenedor": entry["contenedor"],
        },
        "leaf": inclusion.leaf.decode(),
        "leaf_index": inclusion.index,
        "tree_size": inclusion.tree_size,
        "inclusion_proof": [p.hex() for p in inclusion.proof],
        "checkpoint": inclusion.checkpoint,
        "verifier_keys": [k.verifier_key for k in ledger.keys.public_keys(instance)],
    }
    device = _device(ledger, instance, inclusion.leaf)
    if device is not None:
        receipt["device"] = device
    return receipt


def _device(ledger: Feldman, instance: InstanceInfo, leaf: bytes) -> dict[str, Any] | None:
    """The device that signed the capture, as its leaf names it: the key to check the
    sealed signature with offline (`tzzr.ledger.receipt.verify`)."""
    record = json.loads(leaf)
    if "device" not in record:
        return None
    found = ledger.device(instance, record["device"])
    if found is None:  # devices are never deleted; a receipt without it fails to verify
        return None
    return {
        "id": found["id"],
        "key_id": found["id"],
        "name": found["name"],
        "alg": found["alg"],
        "public_key": found["public_key"],
        "signature": record.get("device_sig"),
    }
