"""Snippets: where the query's words are densest, escaped, matches marked."""

from tzzr.search.highlight import fold, highlight
from tzzr.search.query import parse


def test_matches_are_marked_whatever_their_accents_and_case() -> None:
    text = "Desayuno en la PANADERÍA Muñoz, calle Mayor"
    assert highlight(text, parse("panaderia munoz")) == (
        "Desayuno en la <mark>PANADERÍA</mark> <mark>Muñoz</mark>, calle Mayor"
    )


def test_a_phrase_is_marked_only_where_it_is_whole() -> None:
    text = "total parcial 3,10 y luego total a pagar 8,70"
    marked = highlight(text, parse('"total a pagar"'))
    assert marked.count("<mark>") == 3
    assert (
        "total parcial" in marked
        and "<mark>total</mark> <mark>a</mark> <mark>pagar</mark>" in marked
    )


def test_the_window_goes_where_the_matches_are() -> None:
    words = [f"w{n}" for n in range(200)]
    words[150] = "zapatería"
    marked = highlight(" ".join(words), parse("zapat"), window=10)
    assert marked.startswith("…") and marked.endswith("…")
    assert "<mark>zapatería</mark>" in marked
    assert len(marked.replace("…", "").split()) == 10


def test_everything_else_is_escaped() -> None:
    marked = highlight("<script>alert(1)</script> & café", parse("cafe"))
    assert marked == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>café</mark>"


def test_no_query_gives_the_start_of_the_text() -> None:
    assert highlight("uno dos tres", parse("")) == "uno dos tres"
    assert highlight("", parse("x")) == ""


def test_fold() -> None:
    assert fold("ÁÉÍÓÚÑÜ") == fold("aeiounu") == "aeiounu"
