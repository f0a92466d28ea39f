"""RFC 6962 / RFC 9162 §2.1.1 hashing: domain-separated SHA-256 for leaves and nodes."""

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162 §2.1.1: MTH({}) = HASH()
_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d0}) = HASH(0x00 || d0)."""
    return _sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: HASH(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def check_hash(value: bytes, what: str = "hash") -> bytes:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be exactly {HASH_SIZE} bytes, got {len(value)}")
    return value


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over already-hashed leaves (empty tree: SHA-256 of nothing).

    Level by level: pair neighbours, carry an unpaired last node up unchanged. For the
    RFC's left-heavy trees this gives the same root as the recursive definition, with
    n - 1 node hashes and no recursion.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    return subtree_root(level)


def subtree_root(nodes: list[bytes]) -> bytes:
    """Root over a run of same-level nodes (consumes the list)."""
    sha = _sha256
    while len(nodes) > 1:
        paired = [
            sha(b"\x01" + a + b).digest() for a, b in zip(nodes[::2], nodes[1::2], strict=False)
        ]
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return nodes[0]
