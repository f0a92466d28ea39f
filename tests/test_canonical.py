import hashlib

import pytest

from tzzr.canonical import canonical_json, check_ijson, h_entrada
from tzzr.errors import InvalidInput


def test_rfc8785_orders_keys_and_normalizes_numbers() -> None:
    assert canonical_json({"b": 1, "a": [1.0, 1e21, "é"]}) == b'{"a":[1,1e+21,"\xc3\xa9"],"b":1}'


def test_h_entrada_is_sha256_of_canonical_container() -> None:
    files = [{"name": "r.jpg", "media_type": "image/jpeg", "sha256": "ab" * 32, "size": 3}]
    expected = hashlib.sha256(
        b'{"files":[{"media_type":"image/jpeg","name":"r.jpg","sha256":"'
        + b"ab" * 32
        + b'","size":3}],"metadata":{"k":"v","n":2}}'
    ).hexdigest()
    assert h_entrada({"n": 2, "k": "v"}, files) == expected
    assert h_entrada({"k": "v", "n": 2}, files) == expected


def test_file_order_is_part_of_the_address() -> None:
    one = {"name": "a", "media_type": "text/plain", "sha256": "aa" * 32, "size": 1}
    two = {"name": "b", "media_type": "text/plain", "sha256": "bb" * 32, "size": 1}
    assert h_entrada({}, [one, two]) != h_entrada({}, [two, one])


@pytest.mark.parametrize("value", [2**53 + 1, float("nan"), float("inf")])
def test_values_json_cannot_carry_exactly_are_rejected(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        canonical_json({"x": value})
    assert caught.value.field == "metadata"


@pytest.mark.parametrize(
    ("value", "field", "why"),
    [
        ({"params": {"x": [1, float("nan")]}}, "params.x[1]", "NaN and Infinity"),
        ({"a": {"b": -(2**53)}}, "a.b", "outside the I-JSON range"),
        ({"steps": [{"params": {"x": b"\xff"}}]}, "steps[0].params.x", "bytes is not"),
        ({"s": {"a", "b"}}, "s", "set is not"),
        ({"k": {1: "x"}}, "k", "keys must be strings"),
        (float("inf"), "body", "NaN and Infinity"),
    ],
)
def test_check_ijson_names_the_first_value_json_cannot_carry(
    value: object, field: str, why: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_ijson(value)
    assert caught.value.field == field
    assert why in caught.value.message


def test_check_ijson_accepts_json_values() -> None:
    check_ijson({"a": [True, None, 1.5, -(2**53 - 1), 2**53 - 1, "s", {"b": []}], "c": ()})
