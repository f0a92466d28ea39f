"""The search contract, the same on both databases (SQLite FTS5 and PostgreSQL tsvector
with unaccent): accents and case, prefixes, phrases, exclusions, filters, ranking,
snippets, pages, and one instance's entries only. Entries arrive the real way: ingested
over HTTP, read by the shipped receipt flow's OCR, enriched in MASON."""

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from tests.api.conftest import Api, in_process, key_of
from tzzr.db.models import Execution

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NOTES = {
    "bakery": "Desayuno en la Panadería Muñoz con Ana",
    "grocer": "Weekly shop at Harbour Street Grocer",
    "pharmacy": "Farmacia: ibuprofeno y tiritas",
    "panel": "Panel solar: presupuesto de instalación",
    "bread": "Bread and milk, the bakery by the station",
}


def receipt_png(lines: list[str]) -> bytes:
    font = ImageFont.truetype(FONT, 34)
    image = Image.new("RGB", (1100, 90 + 64 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((50, 45 + 64 * i), line, font=font, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def ingest(api: Api, name: str, data: bytes, media: str, metadata: dict[str, Any]) -> str:
    response = api[1].post(
        "/ingest", data={"metadata": json.dumps(metadata)}, files={"file": (name, data, media)}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["h_entrada"])


def run_flows(api: Api) -> None:
    services = api[0]
    with services.engine.connect() as conn:
        queued = conn.execute(select(Execution.id).where(Execution.status == "queued")).scalars()
        ids = list(queued)
    for execution in ids:
        services.alfred.advance(execution, "test")


@pytest.fixture(scope="module", params=["sqlite-local", "postgresql-local"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home: Path = tmp_path_factory.mktemp(request.param)
    with in_process(home, backend=request.param) as api:
        yield api


@pytest.fixture(scope="module")
def entries(api: Api) -> dict[str, str]:
    """Five notes, a receipt read by OCR (decided OK), a blank photo enriched in MASON,
    and corp's own bakery note."""
    api[0].flows.install_defaults(api[0].instances.get("deck").h_instancia)
    found = {
        key: ingest(api, f"note-{n}.txt", note.encode(), "text/plain", {"note": note})
        for n, (key, note) in enumerate(NOTES.items())
    }
    found["receipt"] = ingest(
        api,
        "ticket.png",
        receipt_png(["Pastelería La Higuera", "Roscón de Reyes 18,50", "Total a pagar 18,50 EUR"]),
        "image/png",
        {"lang": "es"},
    )
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(blank, format="PNG")
    found["blank"] = ingest(api, "scan.png", blank.getvalue(), "image/png", {"lang": "es"})
    run_flows(api)
    enriched = api[1].put(
        f"/enrich/{found['blank']}",
        json={"fields": {"title": "Factura del fontanero", "amount": 120.0, "currency": "EUR"}},
    )
    assert enriched.status_code == 200, enriched.text
    services = api[0]
    corp = services.add_instance("corp")
    key, _ = services.keys.create(corp.name, "admin")
    other = api[1].post(
        "/ingest",
        data={"metadata": json.dumps({"note": "Panadería de corp, no de deck"})},
        files={"file": ("corp.txt", b"corp", "text/plain")},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert other.status_code == 200
    found["corp"] = other.json()["h_entrada"]
    return found


def search(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api[1].get("/search", params=params)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def hits(api: Api, entries: dict[str, str], **params: Any) -> set[str]:
    names = {h: name for name, h in entries.items()}
    return {names.get(r["h_entrada"], r["h_entrada"]) for r in search(api, **params)}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("panaderia", {"bakery"}),  # accents never matter
        ("PANADERÍA muñoz", {"bakery"}),
        ("munoz", {"bakery"}),
        ("panad", {"bakery"}),  # the start of a word
        ("pan", {"bakery", "panel"}),
        ("bak", {"bread"}),
        ('"harbour street"', {"grocer"}),  # a phrase, word for word
        ('"street harbour"', set()),
        ("pan -solar", {"bakery"}),  # excluded
        ('pan -"panel solar"', {"bakery"}),
        ("higuera", {"receipt"}),  # what OCR read
        ("roscon reyes", {"receipt"}),
        ("fontanero", {"blank"}),  # what a person entered
        ("receipt-ocr", {"receipt", "blank"}),  # the flow
        ("incident", {"blank"}),  # its decision
        ("ticket", {"receipt"}),  # a file name
        ("nothing-like-this", set()),
        ("€ ,", {"bakery", "grocer", "pharmacy", "panel", "bread", "receipt", "blank"}),
    ],
)
def test_queries(api: Api, entries: dict[str, str], q: str, expected: set[str]) -> None:
    assert hits(api, entries, q=q) == expected


def test_another_instances_entries_are_never_found(api: Api, entries: dict[str, str]) -> None:
    assert entries["corp"] not in {r["h_entrada"] for r in search(api, q="corp")}
    assert hits(api, entries, q="panaderia") == {"bakery"}


def test_snippets_mark_the_match_and_escape_the_rest(api: Api, entries: dict[str, str]) -> None:
    ingest(api, "tag.txt", b"x", "text/plain", {"note": "Cafeteria <b>Sol</b> & Luna"})
    (found,) = search(api, q="cafeteria")
    assert "<mark>Cafeteria</mark>" in found["snippet"]
    assert "&lt;b&gt;Sol&lt;/b&gt; &amp; Luna" in found["snippet"]
    (bakery,) = search(api, q="panaderia")
    assert "<mark>Panadería</mark>" in bakery["snippet"]
    assert bakery["title"] == NOTES["bakery"]


def test_the_title_ranks_above_the_body(api: Api, entries: dict[str, str]) -> None:
    first = ingest(api, "a.txt", b"a", "text/plain", {"note": "Zapatería", "tags": "recibo"})
    second = ingest(
        api, "b.txt", b"b", "text/plain", {"note": "Recibo", "place": "zapatería del centro"}
    )
    ranked = [r["h_entrada"] for r in search(api, q="zapateria")]
    assert ranked == [first, second]
    assert [r["h_entrada"] for r in search(api, q="recibo")] == [second, first]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"media_type": "image/*"}, {"receipt", "blank"}),
        ({"media_type": "image/png", "q": "higuera"}, {"receipt"}),
        ({"media_type": "audio/*"}, set()),
        ({"decision": "ok", "flow": "receipt-ocr"}, {"receipt"}),
        ({"decision": "incident"}, {"blank"}),
        ({"min_total": 100}, {"blank"}),
        ({"min_total": 100, "max_total": 119.99}, set()),
        ({"state": "consolidated", "q": "fontanero"}, {"blank"}),
        ({"state": "enriching"}, set()),
        ({"flow": "no-such-flow"}, set()),
    ],
)
def test_filters(
    api: Api, entries: dict[str, str], params: dict[str, Any], expected: set[str]
) -> None:
    assert hits(api, entries, **params) == expected


def test_dates_filter_by_arrival(api: Api, entries: dict[str, str]) -> None:
    now = datetime.now(UTC)
    assert hits(api, entries, q="panaderia", since=(now - timedelta(hours=1)).isoformat()) == {
        "bakery"
    }
    assert hits(api, entries, q="panaderia", until=(now - timedelta(hours=1)).isoformat()) == set()


def test_no_query_lists_newest_first(api: Api, entries: dict[str, str]) -> None:
    listed = [r["h_entrada"] for r in search(api, limit=100)]
    assert listed.index(entries["blank"]) < listed.index(entries["bakery"])
    assert entries["corp"] not in listed


def test_pages_follow_the_cursor_and_refuse_another_search(
    api: Api, entries: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api[1].get("/search", params=params).json()
        seen += [r["h_entrada"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) >= 7
    assert seen == [r["h_entrada"] for r in search(api, limit=100)]
    first = api[1].get("/search", params={"limit": 2}).json()
    other = api[1].get("/search", params={"q": "pan", "cursor": first["next_cursor"]})
    assert other.status_code == 422 and other.json()["error"]["field"] == "cursor"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "-pan"}, "q"),
        ({"q": "x" * 501}, "q"),
        ({"state": "lost"}, "state"),
        ({"decision": "maybe"}, "decision"),
        ({"min_total": 5, "max_total": 1}, "min_total"),
        ({"limit": 0}, "limit"),
        ({"min_total": "many"}, "min_total"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ],
)
def test_bad_searches_say_what_to_fix(
    api: Api, entries: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = api[1].get("/search", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


def test_any_reading_key_may_search_and_an_ingest_key_may_not(
    api: Api, entries: dict[str, str]
) -> None:
    reader = api[1].get("/search", params={"q": "panaderia"}, headers=key_of(api, "read"))
    assert reader.status_code == 200 and len(reader.json()["results"]) == 1
    ingester = api[1].get("/search", params={"q": "panaderia"}, headers=key_of(api, "ingest"))
    assert ingester.status_code == 403
