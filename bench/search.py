"""Search benchmark (issue 15).

100,000 generated entries with OCR-like text in Spanish and English (receipts and letters:
merchants, items, amounts, dates, accents) are written into a fresh TZZR_HOME's database
through the index's own code (tzzr.search.index), then `tzzr serve` answers 200 mixed
queries (prefixes, accent-free words, two words, phrases, filters) over HTTP with a kept
connection. The reference is the same queries straight on the index in the same run: on
SQLite, FTS5's MATCH (the one the API sends: the instance's scope and the words) ranked by
bm25 with FTS5's snippet and LIMIT, through the sqlite3 module; on PostgreSQL (--postgres
URL), the tsquery the API sends (the instance's word and the words) against the
tsvector, ranked, with ts_headline.

Prints p50/p95 of each and the API's p95 as a ratio of the index's. Goal: p95 under 50 ms
on SQLite and within 1.5x the bare index.
"""

import argparse
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from tzzr.stats import percentile

MERCHANTS = [
    "Panadería Muñoz",
    "Frutería El Huerto",
    "Farmacia Núñez",
    "Ferretería Gómez",
    "Librería Cervantes",
    "Café Sol",
    "Harbour Street Grocer",
    "Tesco Express",
    "Carnicería Pérez",
    "Pescadería La Ría",
    "Zapatería Martín",
    "Óptica Ibáñez",
    "Bricolaje López",
    "Corner Bakery",
    "Station Pharmacy",
    "Green Market",
]
ITEMS_ES = [
    "pan integral",
    "café con leche",
    "tostada con tomate",
    "zumo de naranja",
    "croissant",
    "plátanos",
    "limones",
    "espárragos",
    "pimientos",
    "jamón ibérico",
    "queso manchego",
    "aceite de oliva",
    "tornillos",
    "bombillas",
    "ibuprofeno",
    "tiritas",
    "cuaderno",
    "bolígrafo",
    "merluza",
    "gambas",
    "chuletas",
    "gafas de sol",
    "pilas",
    "martillo",
]
ITEMS_EN = [
    "sourdough loaf",
    "free range eggs",
    "cheddar",
    "apples",
    "milk",
    "orange juice",
    "screws",
    "light bulbs",
    "paracetamol",
    "plasters",
    "notebook",
    "pen",
    "salmon",
    "prawns",
    "sunglasses",
    "batteries",
    "hammer",
    "olive oil",
    "tea bags",
    "biscuits",
]
LETTER_ES = (
    "Estimada señora {name}: le escribimos para confirmar la reunión del próximo {day} en "
    "nuestra oficina de {city}. Por favor, traiga la documentación técnica y el informe."
)
LETTER_EN = (
    "Dear {name}, thank you for your letter. We are pleased to confirm the delivery to the "
    "{city} warehouse on {day} morning. Kind regards, the accounts department."
)
NAMES = ["Núñez", "García", "Thompson", "Ellison", "Peñalver", "Smith", "Ibáñez", "Brown"]
CITIES = ["Málaga", "Sevilla", "Madrid", "Bristol", "Leeds", "Córdoba", "León", "York"]
DAYS = ["lunes", "jueves", "viernes", "Monday", "Thursday", "Friday"]
QUERIES = [
    "panaderia",
    "panad",
    "munoz",
    "ferreteria gomez",
    "cafe",
    "harbour",
    "grocer",
    "tesco",
    "jamon iberico",
    '"aceite de oliva"',
    '"café con leche"',
    "espárragos",
    "esparr",
    "tornillos",
    "ibuprofeno",
    "paracetamol",
    "sourdough",
    '"free range eggs"',
    "biscuits",
    "reunión malaga",
    "delivery leeds",
    "warehouse",
    "informe",
    "peñalver",
    "thompson",
    "optica",
    "ibanez",
    "gafas",
    "pescaderia",
    "gambas merluza",
    "total",
    "importe",
    "zapat",
    "batteries -hammer",
    "libreria cervantes",
    "cuaderno",
    "notebook pen",
]
FILTERS: list[dict[str, Any]] = [
    {},
    {},
    {},
    {"media_type": "image/*"},
    {"min_total": 20},
    {"decision": "ok"},
    {"state": "consolidated"},
]


def text_of(rng: random.Random) -> tuple[str, float | None]:
    if rng.random() < 0.75:  # a receipt
        merchant = rng.choice(MERCHANTS)
        spanish = rng.random() < 0.6
        items = rng.sample(ITEMS_ES if spanish else ITEMS_EN, rng.randint(2, 7))
        lines = [merchant, f"{rng.choice(CITIES)} {rng.randint(1, 28):02d}/11/2026"]
        total = 0.0
        for item in items:
            amount = round(rng.uniform(0.5, 40), 2)
            total += amount
            shown = f"{amount:.2f}".replace(".", ",") if spanish else f"{amount:.2f}"
            lines.append(f"{item} {shown}")
        shown = f"{total:.2f}".replace(".", ",") if spanish else f"{total:.2f}"
        lines.append(("TOTAL A PAGAR " if spanish else "AMOUNT DUE ") + shown)
        return "\n".join(lines), round(total, 2)
    template = LETTER_ES if rng.random() < 0.5 else LETTER_EN
    fields = {"name": rng.choice(NAMES), "city": rng.choice(CITIES), "day": rng.choice(DAYS)}
    return template.format(**fields), None


def populate(home: Path, count: int, url: str | None) -> None:
    """`count` entries, each with an execution-like document, written in batches."""
    os.environ["TZZR_HOME"] = str(home)
    if url:
        os.environ["TZZR_DATABASE_URL"] = url
    from sqlalchemy import insert

    from tzzr.config import Settings
    from tzzr.db.engine import write_transaction
    from tzzr.db.models import Entry, EntryFile
    from tzzr.search.document import build
    from tzzr.search.index import _write
    from tzzr.services import Services

    services = Services.build(Settings())
    services.bootstrap()
    deck = services.instances.get("deck")
    rng = random.Random(15)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    batch = 2000
    for first in range(0, count, batch):
        with write_transaction(services.engine) as conn:
            for n in range(first, min(count, first + batch)):
                body, total = text_of(rng)
                h = f"{n:064x}"
                media = "image/jpeg" if total is not None else "application/pdf"
                files = [{"name": f"scan-{n}.jpg", "sha256": h, "media_type": media, "size": 1}]
                entry_id = conn.execute(
                    insert(Entry)
                    .values(
                        h_instancia=deck.h_instancia,
                        h_entrada=h,
                        contenedor={"metadata": {"source": "bench"}, "files": files},
                        r2_paths=[],
                        state="consolidated" if n % 5 else "enriching",
                        created_at=start + timedelta(minutes=n),
                    )
                    .returning(Entry.id)
                ).scalar_one()
                conn.execute(insert(EntryFile), [{"entry_id": entry_id, "position": 0, **files[0]}])
                run = SimpleNamespace(
                    flow_id="receipt-ocr",
                    outcome="ok" if total is not None else "incident",
                    steps=[
                        {"id": "ocr", "output": {"text": body}},
                        {"id": "fields", "output": {"total": {"value": total}}},
                    ],
                )
                _write(conn, entry_id, deck.h_instancia, build({"files": files}, run, None))
        done = min(count, first + batch)
        rate = done / (time.perf_counter() - started)
        print(f"\r  {done:,} entries written ({rate:,.0f}/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    services.close()


def serve(home: Path, url: str | None) -> tuple[subprocess.Popen[bytes], str, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TZZR_HOME": str(home), "TZZR_BLOCK_INTERVAL": "0"}
    if url:
        env["TZZR_DATABASE_URL"] = url
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "serve", "--port", str(port), "--no-access-log"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            httpx.get(f"{base}/health", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    from tzzr.config import Settings
    from tzzr.services import Services

    os.environ["TZZR_HOME"] = str(home)
    services = Services.build(Settings())
    key, _ = services.keys.create("deck", "read")
    services.close()
    return process, base, key


def mixed(count: int) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(200)
    return [(rng.choice(QUERIES), rng.choice(FILTERS)) for _ in range(count)]


def bare_sqlite(database: Path, queries: list[tuple[str, dict[str, Any]]]) -> list[float]:
    """The same queries straight on FTS5: the MATCH the API sends (the instance's scope
    and the words), ranked by bm25, with FTS5's own snippet, through sqlite3."""
    from tzzr.search.query import parse

    conn = sqlite3.connect(database)
    (scope,) = conn.execute("SELECT h_instancia FROM instances").fetchone()
    times = []
    for q, _ in queries:
        match = f'terms : "{scope}" AND {{title body}} : ({parse(q).fts5()})'
        started = time.perf_counter()
        conn.execute(
            "SELECT rowid, snippet(search_fts, 1, '[', ']', '…', 18), "
            "bm25(search_fts, 4.0, 1.0, 0.0) AS r FROM search_fts WHERE search_fts MATCH ? "
            "ORDER BY r LIMIT 21",
            (match,),
        ).fetchall()
        times.append(time.perf_counter() - started)
    conn.close()
    return times


def bare_postgres(url: str, queries: list[tuple[str, dict[str, Any]]]) -> list[float]:
    import psycopg

    from tzzr.search.query import parse

    times = []
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute("SELECT h_instancia FROM instances").fetchone()
        assert row is not None
        scope = row[0]
        for q, _ in queries:
            tsquery = f"'{scope}':D & ({parse(q).tsquery()})"
            started = time.perf_counter()
            conn.execute(
                "WITH q AS (SELECT to_tsquery('tzzr_search', %s) AS q), page AS ("
                "SELECT entry_id, body, ts_rank_cd(tsv, q.q) AS r FROM search_docs, q "
                "WHERE tsv @@ q.q ORDER BY r DESC LIMIT 21) "
                "SELECT entry_id, ts_headline('tzzr_search', body, q.q) FROM page, q",
                (tsquery,),
            ).fetchall()
            times.append(time.perf_counter() - started)
    return times


def through_api(base: str, key: str, queries: list[tuple[str, dict[str, Any]]]) -> list[float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        for q, filters in queries[:5]:  # warm the connection and the caches
            client.get("/search", params={"q": q, **filters})
        for q, filters in queries:
            started = time.perf_counter()
            response = client.get("/search", params={"q": q, **filters})
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    return times


def line(label: str, times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p50, p95 = (1000 * (percentile(ordered, q) or 0.0) for q in (0.5, 0.95))
    print(f"{label:34s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", metavar="URL", help="a fresh, empty PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-search-") as work:
        home = Path(work) / "home"
        print(f"writing {args.entries:,} entries ({'PostgreSQL' if args.postgres else 'SQLite'})")
        populate(home, args.entries, args.postgres)
        queries = mixed(args.queries)
        process, base, key = serve(home, args.postgres)
        try:
            api = through_api(base, key, queries)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        if args.postgres:
            bare = bare_postgres(args.postgres, queries)
        else:
            bare = bare_sqlite(home / "tzzr.db", queries)
        print(f"\n{args.queries} mixed queries over {args.entries:,} entries")
        _, bare95 = line("bare index (same queries)", bare)
        _, api95 = line("GET /search (HTTP, kept connection)", api)
        plain = [k for k, (_, filters) in enumerate(queries) if not filters]
        _, bare_plain = line("  bare, queries without filters", [bare[k] for k in plain])
        _, api_plain = line("  API, queries without filters", [api[k] for k in plain])
        print(f"  without filters: API / bare index = {api_plain / bare_plain:.2f}x")
        ratio = api95 / bare95 if bare95 else float("inf")
        print(
            f"p95: API / bare index = {ratio:.2f}x (goal <= 1.5x); p95 {api95:.1f} ms (goal < 50)"
        )
        met = api95 < 50 and ratio <= 1.5
        print(f"goal: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
