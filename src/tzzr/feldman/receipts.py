"""Receipts built from the stored log (`tzzr.ledger.receipt` verifies them offline)."""

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
    return {
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
