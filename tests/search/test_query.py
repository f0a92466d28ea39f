"""The query syntax, and how it is written for FTS5 and for to_tsquery."""

import pytest

from tzzr.errors import InvalidInput
from tzzr.search.query import parse


def test_words_are_prefixes_and_quotes_make_phrases() -> None:
    query = parse('panad "total a pagar" -iva -"de regalo"')
    assert query.prefixes == ["panad"]
    assert query.phrases == [["total", "a", "pagar"]]
    assert query.excluded == [["iva"], ["de", "regalo"]]
    assert query.fts5() == '"panad"* AND "total a pagar" NOT "iva" NOT "de regalo"'
    assert query.tsquery() == (
        "'panad':*AB & ('total':AB <-> 'a':AB <-> 'pagar':AB) & !('iva':AB) "
        "& !('de':AB <-> 'regalo':AB)"
    )


def test_punctuation_inside_a_word_makes_a_phrase() -> None:
    query = parse("8,70 b12345674 forty-two")
    assert query.phrases == [["8", "70"], ["forty", "two"]]
    assert query.prefixes == ["b12345674"]


def test_nothing_in_a_query_is_the_backends_own_syntax() -> None:
    query = parse("NEAR(a b) OR o'brien a:* \\x")
    assert query.fts5() == '"b"* AND "OR"* AND "a"* AND "x"* AND "NEAR a" AND "o brien"'
    assert query.tsquery() == (
        "'b':*AB & 'OR':*AB & 'a':*AB & 'x':*AB & ('NEAR':AB <-> 'a':AB) & ('o':AB <-> 'brien':AB)"
    )


def test_an_unclosed_quote_is_a_phrase_to_the_end() -> None:
    assert parse('"panadería muñoz').phrases == [["panadería", "muñoz"]]


def test_punctuation_alone_is_nothing() -> None:
    assert parse("€ , - ...").empty
    assert parse("").empty and parse(None).empty


@pytest.mark.parametrize(
    ("text", "says"),
    [("-iva", "say what to find"), ("x" * 501, "longer than"), (" ".join("w" * 21), "more than")],
)
def test_queries_that_cannot_be_run_say_why(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    assert caught.value.field == "q" and says in caught.value.message


def test_an_underscore_is_not_part_of_a_word() -> None:
    assert parse("_ __").empty
    assert parse("a_b").phrases == [["a", "b"]]
