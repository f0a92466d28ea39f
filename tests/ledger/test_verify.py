"""The pure verifiers: named mutation probes are all rejected, preconditions are
explicit, and a mismatch names both roots."""

import pytest

from tests.ledger.vectors import CT_HASHES, CT_ROOTS, leaf_data
from tzzr.ledger import (
    EMPTY_ROOT,
    ProofError,
    RootMismatchError,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


def _flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# Sizes are probed by changing the tree's height (x 2, / 2), as transparency-dev/merkle
# does: RFC 9162's verifiers see only a proof's shape, so a size whose proof has the
# same shape (index 0 at size 3 or 4) cannot be told apart without the signed size;
# passing one off would need a hash preimage.
def inclusion_probes(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes):  # type: ignore[no-untyped-def]
    yield "index - 1", (leaf, index - 1, size, proof, root)
    yield "index + 1", (leaf, index + 1, size, proof, root)
    yield "index ^ 2", (leaf, index ^ 2, size, proof, root)
    yield "size * 2", (leaf, index, size * 2, proof, root)
    yield "size / 2", (leaf, index, size // 2, proof, root)
    yield "leaf bit flip", (_flip(leaf), index, size, proof, root)
    yield "root bit flip", (leaf, index, size, proof, _flip(root, 7))
    if size > 1:  # a one-leaf tree's root is its leaf hash
        yield "root is leaf", (leaf, index, size, proof, leaf)
    yield "extended with empty root", (leaf, index, size, [*proof, EMPTY_ROOT], root)
    yield "extended with leaf", (leaf, index, size, [*proof, leaf], root)
    yield "prepended with leaf", (leaf, index, size, [leaf, *proof], root)
    if proof:
        yield "truncated", (leaf, index, size, proof[:-1], root)
        yield "first hash flipped", (leaf, index, size, [_flip(proof[0]), *proof[1:]], root)
        yield "last hash flipped", (leaf, index, size, [*proof[:-1], _flip(proof[-1])], root)
        yield (
            "reversed",
            (leaf, index, size, proof[::-1], root)
            if len(proof) > 1
            else (leaf, index, size, [], root),
        )
        yield "short hash", (leaf, index, size, [proof[0][:31], *proof[1:]], root)


def test_inclusion_mutation_probes_are_all_rejected() -> None:
    hashes = [hash_leaf(d) for d in leaf_data(20)]
    for size in (1, 2, 3, 7, 8, 9, 20):
        root = root_hash(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(hashes[:size], index)
            for name, args in inclusion_probes(hashes[index], index, size, proof, root):
                if name == "reversed" and len(proof) > 1 and proof == proof[::-1]:
                    continue
                with pytest.raises(ValueError):
                    verify_inclusion(*args)
                    pytest.fail(f"probe {name!r} accepted at index {index}, size {size}")


def test_consistency_mutation_probes_are_all_rejected() -> None:
    hashes = [hash_leaf(d) for d in leaf_data(20)]
    for size2 in (2, 3, 7, 8, 9, 20):
        root2 = root_hash(hashes[:size2])
        for size1 in range(1, size2):
            root1 = root_hash(hashes[:size1])
            proof = consistency_proof(hashes[:size2], size1)
            probes = {
                "size1 - 1": (size1 - 1, size2, proof, root1, root2),
                "size1 + 1": (size1 + 1, size2, proof, root1, root2),
                "size2 * 2": (size1, size2 * 2, proof, root1, root2),
                "swapped roots": (size1, size2, proof, root2, root1),
                "root1 flipped": (size1, size2, proof, _flip(root1), root2),
                "root2 flipped": (size1, size2, proof, root1, _flip(root2)),
                "truncated": (size1, size2, proof[:-1], root1, root2),
                "extended": (size1, size2, [*proof, EMPTY_ROOT], root1, root2),
                "first flipped": (size1, size2, [_flip(proof[0]), *proof[1:]], root1, root2),
                "empty": (size1, size2, [], root1, root2),
            }
            for name, args in probes.items():
                with pytest.raises(ValueError):
                    verify_consistency(*args)
                    pytest.fail(f"probe {name!r} accepted for {size1} -> {size2}")


def test_preconditions_are_explicit() -> None:
    root = root_hash(CT_HASHES)
    with pytest.raises(ProofError, match="size1 must be positive"):
        verify_consistency(0, 8, [], EMPTY_ROOT, root)
    verify_consistency(8, 8, [], root, root)
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(8, 8, [root], root, root)
    with pytest.raises(RootMismatchError):
        verify_consistency(8, 8, [], root, EMPTY_ROOT)
    with pytest.raises(ValueError, match="32 bytes"):
        verify_inclusion(b"short", 0, 1, [], root)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(CT_HASHES[0], 8, 8, [], root)


def test_mismatch_errors_carry_both_roots() -> None:
    proof = inclusion_proof(CT_HASHES, 3)
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(CT_HASHES[3], 3, 8, proof, EMPTY_ROOT)
    assert caught.value.expected == EMPTY_ROOT
    assert caught.value.calculated == CT_ROOTS[8]
