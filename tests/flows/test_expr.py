"""The decision language: what it computes, and that it refuses anything else."""

from typing import Any

import pytest

from tzzr.errors import InvalidInput
from tzzr.flows.expr import Node, evaluate, parse

SCOPE: dict[str, Any] = {
    "ocr": {
        "text": "Panadería Muñoz\nTotal a pagar: 8,70 EUR",
        "words": [{"conf": 91}, {"conf": 40}],
    },
    "asr": {"language": "es", "text": ""},
    "entry": {"metadata": {"urgent": True, "count": 3, "tags": ["a", "b"]}},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('ocr.text matches "(?i)total"', True),
        ('ocr.text matches "[0-9]+[.,][0-9]{2}"', True),
        ('ocr.text matches "^Total"', False),
        ('asr.language == "es"', True),
        ("asr.language != 'es'", False),
        ("len(asr.text) > 0", False),
        ("len(ocr.words) == 2", True),
        ("ocr.words[0].conf >= 90 and ocr.words[1].conf < 50", True),
        ("ocr.words[5].conf > 1", False),
        ("entry.metadata.urgent == true", True),
        ("not entry.metadata.urgent", False),
        ("entry.metadata.count > 2.5 or false", True),
        ('"b" in entry.metadata.tags', True),
        ('entry.metadata.tags contains "c"', False),
        ('lower(ocr.text) contains "panadería"', True),
        ("exists(entry.metadata.count) and not exists(entry.metadata.nope)", True),
        ("nope.deeper == null", True),
        ("ocr.text > 3", False),  # kinds that cannot be ordered: false, not an error
        ("(true or false) and not (false)", True),
        ("-1 < 0", True),
    ],
)
def test_expressions(source: str, expected: bool) -> None:
    assert evaluate(parse(source), SCOPE) is expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('__import__("os").system("true")', "unknown function __import__"),
        ("ocr.text matches 3", "matches takes a string pattern"),
        ('ocr.text matches "("', "bad regular expression"),
        ("ocr.text ==", "expected a value at the end"),
        ("a b", "unexpected 'b' at character 3"),
        ("a ; b", "cannot read the decision at character 3"),
        ("items[1.5]", "whole number"),
        ("x" * 3000, "at most 2000 characters"),
    ],
)
def test_anything_else_is_refused_with_where(source: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")) as caught:
        parse(source)
    assert caught.value.field == "decision"


def test_and_binds_tighter_than_or_and_both_group_from_the_left() -> None:
    t, f = Node("literal", True), Node("literal", False)
    assert parse("true or false and false") == Node(
        "or", children=(t, Node("and", children=(f, f)))
    )
    assert parse("true and false and true") == Node(
        "and", children=(Node("and", children=(t, f)), t)
    )
    assert parse("false or true or false") == Node("or", children=(Node("or", children=(f, t)), f))
