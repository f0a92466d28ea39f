"""Which subtrees a proof needs (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 PROOF/SUBPROOF), as
leaf ranges `[start, end)`, and the in-memory proofs built from them. No storage here:
`tzzr.feldman.log` answers the same ranges from stored tiles."""

from collections.abc import Callable, Sequence

from tzzr.ledger.hashing import hash_children, root_hash


def split_point(n: int) -> int:
    """RFC 9162 §2.1.1: the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Subtrees of PATH(index, D[size]), bottom-up. Requires 0 <= index < size."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index - lo < k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Subtrees of PROOF(size1, D[size2]), bottom-up. Requires 0 < size1 <= size2."""
    if not 0 < size1 <= size2:
        raise ValueError(f"consistency needs 0 < size1 <= size2, got {size1}, {size2}")
    path: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
            m -= k
            whole = False
    if not whole:
        path.append((lo, hi))
    path.reverse()
    return path


def node_hash(start: int, end: int, perfect: Callable[[int, int], bytes]) -> bytes:
    """MTH of the RFC tree node covering leaves [start, end), from a source of perfect
    subtree hashes `perfect(level, index)` (covering leaves [index·2^level, (index+1)·2^level))."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return perfect(level, start >> level)
    k = split_point(n)
    left_level = k.bit_length() - 1
    return hash_children(
        perfect(left_level, start >> left_level), node_hash(start + k, end, perfect)
    )


def _memory(leaf_hashes: Sequence[bytes]) -> Callable[[int, int], bytes]:
    def perfect(level: int, index: int) -> bytes:
        return root_hash(leaf_hashes[index << level : (index + 1) << level])

    return perfect


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[n]) over in-memory leaf hashes."""
    perfect = _memory(leaf_hashes)
    return [node_hash(a, b, perfect) for a, b in inclusion_ranges(index, len(leaf_hashes))]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(size1, D[n]) over in-memory leaf hashes."""
    perfect = _memory(leaf_hashes)
    return [node_hash(a, b, perfect) for a, b in consistency_ranges(size1, len(leaf_hashes))]
