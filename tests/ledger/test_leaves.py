from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from tzzr.errors import TzzrError
from tzzr.ledger.leaves import encode_many, leaf_bytes

values = st.one_of(
    st.text(),
    st.integers(-(2**60), 2**60),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: k not in {"v", "kind", "instance", "ref", "hash", "ts"}
        ),
        values,
        max_size=4,
    ),
    st.text(),
)
def test_leaf_bytes_are_exactly_rfc8785(extra: dict[str, object], ref: str) -> None:
    ts = datetime(2026, 11, 21, 12, 0, 0, 123456, UTC)
    record: dict[str, Any] = {
        **extra,
        "v": 1,
        "kind": "entry",
        "instance": "ab" * 32,
        "ref": ref,
        "hash": "cd" * 32,
        "ts": "2026-11-21T12:00:00.123456Z",
    }
    try:
        expected = rfc8785.dumps(record)
    except rfc8785.CanonicalizationError:
        with pytest.raises((ValueError, TzzrError)):
            leaf_bytes("entry", "ab" * 32, ref, "cd" * 32, ts, extra)
        return
    assert leaf_bytes("entry", "ab" * 32, ref, "cd" * 32, ts, extra) == expected


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        leaf_bytes("gossip", "a", "b", "c", datetime.now(UTC))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["entry", "enrichment", "attestation"]),
            st.text(max_size=70),
            st.text(max_size=70),
            st.datetimes(timezones=st.just(UTC)),
            st.one_of(st.none(), st.just({}), st.dictionaries(st.sampled_from("abc"), values)),
        ),
        max_size=8,
    ),
    st.sampled_from(["ab" * 32, 'in"stance', "tab\there"]),
)
def test_encode_many_is_leaf_bytes_of_each(
    records: list[tuple[str, str, str, datetime, dict[str, object] | None]], instance: str
) -> None:
    try:
        expected = [leaf_bytes(k, instance, r, d, ts, e) for k, r, d, ts, e in records]
    except (ValueError, TzzrError):
        with pytest.raises((ValueError, TzzrError)):
            encode_many(instance, records)
        return
    assert encode_many(instance, records) == expected


def test_encode_many_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="kind"):
        encode_many("a", [("gossip", "b", "c", datetime.now(UTC), None)])
