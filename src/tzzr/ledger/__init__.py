"""FELDMAN: the verifiable ledger (RFC 9162 Merkle log, blocks, signed checkpoints).

The pure functions below are a stable public API that other tools may rely on.
"""

from tzzr.ledger.hashing import EMPTY_ROOT, hash_children, hash_leaf, root_hash
from tzzr.ledger.proof import consistency_proof, inclusion_proof
from tzzr.ledger.verify import (
    ProofError,
    RootMismatchError,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "ProofError",
    "RootMismatchError",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]
