"""Which nodes a proof holds: the CT vectors, a naive reference for every small tree,
preconditions, and a property over random trees."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger import reference
from tests.ledger.vectors import CONSISTENCY, CT_HASHES, CT_ROOTS, INCLUSION_8, leaf_data
from tzzr.ledger import (
    ProofError,
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)


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


def test_every_small_tree_against_the_reference() -> None:
    data = leaf_data(64)
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


def test_proofs_refuse_impossible_arguments() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(CT_HASHES, 8)
    with pytest.raises(ValueError):
        consistency_proof(CT_HASHES, 0)


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
