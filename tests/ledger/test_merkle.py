"""The pure Merkle code, in layers: known answers, the Certificate Transparency
vectors, a naive reference for every small tree, named mutation probes, properties."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger import reference
from tzzr.ledger import (
    EMPTY_ROOT,
    ProofError,
    RootMismatchError,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_HASHES = [hash_leaf(d) for d in CT_LEAVES]
INCLUSION_8 = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def test_known_answer_hashes() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert hash_leaf(b"") == CT_ROOTS[1]
    assert hash_leaf(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        hash_children(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


@pytest.mark.parametrize("size", range(9))
def test_ct_roots(size: int) -> None:
    assert root_hash(CT_HASHES[:size]) == CT_ROOTS[size]


@pytest.mark.parametrize("index", sorted(INCLUSION_8))
def test_ct_inclusion_proofs(index: int) -> None:
    proof = inclusion_proof(CT_HASHES, index)
    assert [p.hex() for p in proof] == INCLUSION_8[index]
    verify_inclusion(CT_HASHES[index], index, 8, proof, CT_ROOTS[8])


@pytest.mark.parametrize(("size1", "size2"), sorted(CONSISTENCY))
def test_ct_consistency_proofs(size1: int, size2: int) -> None:
    proof = consistency_proof(CT_HASHES[:size2], size1)
    assert [p.hex() for p in proof] == CONSISTENCY[(size1, size2)]
    verify_consistency(size1, size2, proof, CT_ROOTS[size1], CT_ROOTS[size2])


def _data(n: int) -> list[bytes]:
    return [b"leaf-%d" % i for i in range(n)]


def test_every_small_tree_against_the_reference() -> None:
    data = _data(64)
    hashes = [hash_leaf(d) for d in data]
    for size in range(65):
        root = root_hash(hashes[:size])
        assert root == reference.mth(data[:size]), size
        for index in range(size):
            proof = inclusion_proof(hashes[:size], index)
            assert proof == reference.path(index, data[:size]), (index, size)
            verify_inclusion(hashes[index], index, size, proof, root)
        for size1 in range(1, size + 1):
            proof = consistency_proof(hashes[:size], size1)
            assert proof == reference.proof(size1, data[:size]), (size1, size)
            verify_consistency(size1, size, proof, root_hash(hashes[:size1]), root)


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
    hashes = [hash_leaf(d) for d in _data(20)]
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
    hashes = [hash_leaf(d) for d in _data(20)]
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
    with pytest.raises(ValueError):
        inclusion_proof(CT_HASHES, 8)
    with pytest.raises(ValueError):
        consistency_proof(CT_HASHES, 0)


def test_mismatch_errors_carry_both_roots() -> None:
    proof = inclusion_proof(CT_HASHES, 3)
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(CT_HASHES[3], 3, 8, proof, EMPTY_ROOT)
    assert caught.value.expected == EMPTY_ROOT
    assert caught.value.calculated == CT_ROOTS[8]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=200), st.data())
def test_property_proofs_verify_and_other_leaves_do_not(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = [hash_leaf(d) for d in leaves]
    size = len(hashes)
    index = data.draw(st.integers(0, size - 1))
    root = root_hash(hashes)
    proof = inclusion_proof(hashes, index)
    verify_inclusion(hashes[index], index, size, proof, root)
    other = data.draw(st.integers(0, size - 1))
    if hashes[other] != hashes[index]:
        with pytest.raises(ProofError):
            verify_inclusion(hashes[other], index, size, proof, root)
    size1 = data.draw(st.integers(1, size))
    verify_consistency(
        size1, size, consistency_proof(hashes, size1), root_hash(hashes[:size1]), root
    )
