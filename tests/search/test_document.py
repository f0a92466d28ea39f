"""What search reads of an entry."""

from types import SimpleNamespace

from tzzr.search.document import build

CONTAINER = {
    "metadata": {"note": "Almuerzo", "lang": "es", "tags": ["trabajo", "madrid"], "n": 3},
    "files": [{"name": "ticket.jpg", "sha256": "a" * 64, "media_type": "image/jpeg"}],
}
EXECUTION = SimpleNamespace(
    flow_id="receipt-ocr",
    outcome="ok",
    steps=[
        {
            "id": "ocr",
            "output": {
                "text": "\n  Panadería Muñoz\nTotal 8,70",
                "words": [{"text": "Panadería", "box": [1, 2, 3, 4]}],
                "artifacts": {"searchable.pdf": {"sha256": "b" * 64}},
                "ms": 120.5,
            },
        },
        {
            "id": "fields",
            "output": {
                "total": {"value": 8.7, "confidence": 0.9},
                "currency": {"value": "eur", "confidence": 0.8},
                "merchant": {"value": "Panadería Muñoz", "confidence": 0.7},
            },
        },
        {"id": "broken", "status": "failed"},
    ],
)


def test_everything_known_is_in_the_body() -> None:
    doc = build(CONTAINER, EXECUTION)
    for part in ("Almuerzo", "trabajo", "madrid", "ticket.jpg", "Panadería Muñoz", "receipt-ocr"):
        assert part in doc.body
    assert "8.7" in doc.body  # an amount's number
    assert "a" * 64 not in doc.body and "b" * 64 not in doc.body  # no blob addresses
    assert "120.5" not in doc.body and "0.9" not in doc.body  # no timings, confidences
    assert doc.body.count("Panadería") == 2  # the text and the merchant, not the words


def test_the_values_search_filters_on() -> None:
    doc = build(CONTAINER, EXECUTION)
    assert (doc.total, doc.currency, doc.flow, doc.decision) == (8.7, "EUR", "receipt-ocr", "ok")
    assert doc.line == "Panadería Muñoz"
    assert doc.title == "Almuerzo"  # the person's note before what a cell read


def test_what_a_person_entered_wins() -> None:
    doc = build(CONTAINER, EXECUTION, {"title": "Pan", "amount": 9.1, "currency": "USD"})
    assert (doc.title, doc.total, doc.currency) == ("Pan", 9.1, "USD")


def test_an_entry_with_nothing_read_yet() -> None:
    doc = build({"metadata": {}, "files": [{"name": "scan.pdf"}]})
    assert (doc.title, doc.line, doc.total, doc.flow) == ("scan.pdf", "", None, None)
