"""Decision regexes on RE2: patterns that make Python's engine backtrack for seconds
finish at once with the right answer; Python's Unicode meaning of the class escapes is
kept (checked against `re` itself); what RE2 cannot run is a 422 when the flow is saved."""

import re

import pytest

from tzzr.errors import InvalidInput
from tzzr.flows.expr import evaluate, parse
from tzzr.flows.pattern import PatternError, compile_pattern, translate
from tzzr.flows.spec import validate

DIGITS = "1" * 60_000  # user text: Python took 18 s on the default flow's pattern


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("[0-9]+[.,][0-9]{2}", DIGITS, False),  # quadratic on a backtracking engine
        ("[0-9]+[.,][0-9]{2}", DIGITS + ",50", True),
        ("^([0-9]+)+$", DIGITS + "x", False),  # exponential on a backtracking engine
        ("^([0-9]+)+$", DIGITS, True),
        ("(1|11)+2", DIGITS, False),
        ("(.*a){12}", "a" * 11 + "b" * 30_000, False),
    ],
)
def test_catastrophic_patterns_finish_with_the_right_answer(
    pattern: str, text: str, expected: bool
) -> None:
    decision = parse(f'ocr.text matches "{pattern}"')
    assert evaluate(decision, {"ocr": {"text": text}}) is expected


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"^\w+$", "ñandú"),
        (r"\w+", "¡año!"),
        (r"^[\w.]+@", "josé.pérez@example.org"),
        (r"\W", "ñ"),
        (r"\W", "ñ-"),
        (r"\d{2}", "٣٤"),  # Arabic-Indic digits are \d in Python
        (r"[\d,]+", "١٢,٥"),
        (r"\D", "٣"),
        (r"[^\d]", "١"),
        (r"\s", "a\u00a0b"),  # a no-break space
        (r"\s", "a\u2003b"),
        (r"\S+", "\u00a0x"),
        (r"[\s]", "\x0b"),
        (r"(?i)ÉCLAIR", "éclair"),
        (r"total\Z", "total"),
        (r"total\Z", "total!"),
        (r"caf\u00e9", "café"),
        (r"[]a]", "]"),
        (r"[^]a]", "]"),
        (r"[\]x]", "]"),
        (r"a\.b", "a.b"),
        (r"a\.b", "axb"),
        (r"(?m)^Total", "Panadería\nTotal: 8,70"),
        (r"^Total", "Panadería\nTotal: 8,70"),
    ],
)
def test_class_escapes_mean_what_they_mean_in_python(pattern: str, text: str) -> None:
    expected = re.search(pattern, text) is not None
    assert (compile_pattern(pattern).search(text) is not None) is expected, translate(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape"),  # a backreference
        (r"(?=a)b", "perl operator"),  # lookahead
        (r"(?<=a)b", "perl operator"),  # lookbehind
        (r"(?x) a b", "perl operator"),
        ("a{1001}", "repetition"),
        (r"[\W_]", r"\\W inside \[...\] is not supported"),
        ("(", "missing"),
    ],
)
def test_what_re2_cannot_run_is_refused_naming_the_decision(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason) as caught:
        compile_pattern(pattern)
    assert caught.value.field == "decision" and caught.value.status == 422
    literal = pattern.replace("\\", "\\\\")  # the decision's strings take \\ for \
    with pytest.raises(InvalidInput, match=r"regular expression|not supported") as refused:
        validate({"id": "x", "decision": f"ocr.text matches '{literal}'"})
    assert refused.value.field == "decision"
