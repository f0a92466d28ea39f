"""Pure verifiers, straight from RFC 9162 §2.1.3.2 and §2.1.4.2."""

from collections.abc import Sequence

from tzzr.ledger.hashing import check_hash, hash_children


class ProofError(ValueError):
    """A proof does not verify."""


class RootMismatchError(ProofError):
    """The proof is well formed but leads to another root."""

    def __init__(self, expected: bytes, calculated: bytes, what: str = "root") -> None:
        super().__init__(
            f"{what} mismatch: expected {expected.hex()}, calculated {calculated.hex()}"
        )
        self.expected = expected
        self.calculated = calculated


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-5, returning r. Requires 0 <= index < size."""
    check_hash(leaf_hash, "leaf hash")
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        check_hash(p, "proof hash")
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raises unless `proof` shows leaf `index` in the tree `root`."""
    check_hash(root, "root")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != root:
        raise RootMismatchError(root, calculated)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: raises unless tree (size2, root2) extends (size1, root1).
    Requires 0 < size1 <= size2; equal sizes take an empty proof and equal roots."""
    check_hash(root1, "root1")
    check_hash(root2, "root2")
    for p in proof:
        check_hash(p, "proof hash")
    if size1 <= 0:
        raise ProofError(f"size1 must be positive, got {size1}")
    if size2 < size1:
        raise ProofError(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size take an empty proof")
        if root1 != root2:
            raise RootMismatchError(root1, root2)
        return
    if not proof:
        raise ProofError("empty proof for trees of different sizes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # step 2: an exact power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("proof is too long")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is too short")
    if fr != root1:
        raise RootMismatchError(root1, fr, "first root")
    if sr != root2:
        raise RootMismatchError(root2, sr, "second root")
