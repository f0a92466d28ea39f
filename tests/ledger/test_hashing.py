"""RFC 9162 hashing: known answers and the CT vectors' roots."""

import hashlib

import pytest

from tests.ledger.vectors import CT_HASHES, CT_ROOTS
from tzzr.ledger import EMPTY_ROOT, hash_children, hash_leaf, root_hash


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
