"""`tzzr audit` names each kind of tampering the issue lists."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import make_settings
from tests.feldman.test_log import ingest
from tzzr.feldman.audit import audit
from tzzr.services import Services


@pytest.fixture(scope="module")
def sealed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose deck has three entries with files, 305 without, and two
    blocks, made once a module: each test tampers with a copy of its own."""
    home = tmp_path_factory.mktemp("audit") / "home"
    services = Services.build(make_settings(home))
    try:
        services.bootstrap()
        deck = services.instances.get("deck")
        for i in range(3):
            with services.ingest.builder(deck) as builder:
                builder.set_metadata({"with_file": i})
                builder.new_file(f"f{i}.txt", "text/plain").write(b"file %d" % i)
                builder.finish()
        ingest(services, 300)  # past one tile of 256
        services.ledger.seal(deck)
        ingest(services, 5, start=300)
        services.ledger.seal(deck)
    finally:
        services.close()
    return home


@pytest.fixture
def ledger(sealed_home: Path, tmp_path: Path) -> Iterator[Services]:
    home = tmp_path / "home"
    shutil.copytree(sealed_home, home)
    services = Services.build(make_settings(home))
    yield services
    services.close()


def findings(services: Services) -> list[str]:
    deck = services.instances.get("deck")
    return [str(f) for f in audit(services.engine, services.ledger.keys, services.blobs, deck)]


def sql(services: Services, statement: str, **params: object) -> None:
    with services.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_clean_ledger_audits_clean(ledger: Services) -> None:
    assert findings(ledger) == []


def test_a_tampered_entry_row_is_found(ledger: Services) -> None:
    row = {"metadata": {"with_file": 99}, "files": []}
    import json

    sql(ledger, "UPDATE entries SET contenedor = :c WHERE id = 1", c=json.dumps(row))
    assert any(f.startswith("entry ") and "container hashes to" in f for f in findings(ledger))


def test_a_tampered_blob_is_found(ledger: Services) -> None:
    deck = ledger.instances.get("deck")
    store = ledger.ingest.store_for(deck)
    import hashlib

    digest = hashlib.sha256(b"file 1").hexdigest()
    path = Path(str(ledger.settings.blob_url).removeprefix("file://")) / store.key(digest)
    path.chmod(0o644)
    path.write_bytes(b"file 1, altered")
    assert any(f"blob {digest} (f1.txt) now hashes to" in f for f in findings(ledger))


def test_a_tampered_stored_node_hash_is_found(ledger: Services) -> None:
    with ledger.engine.begin() as conn:
        data = bytearray(
            conn.execute(
                text("SELECT hashes FROM ledger_tiles WHERE level = 0 AND idx = 0")
            ).scalar_one()
        )
        data[40] ^= 1
        conn.execute(
            text("UPDATE ledger_tiles SET hashes = :h WHERE level = 0 AND idx = 0"),
            {"h": bytes(data)},
        )
    assert any(f.startswith("tile 0/0: stored hash #1") for f in findings(ledger))


def test_a_deleted_leaf_is_found(ledger: Services) -> None:
    sql(ledger, "DELETE FROM ledger_leaves WHERE idx = 7")
    found = findings(ledger)
    assert "leaf 7: missing (the next stored leaf is 8)" in found
    assert any(f.endswith("its leaf 7 is missing") for f in found)


def test_reordered_leaves_are_found(ledger: Services) -> None:
    sql(ledger, "UPDATE ledger_leaves SET idx = -1 WHERE idx = 10")
    sql(ledger, "UPDATE ledger_leaves SET idx = 10 WHERE idx = 11")
    sql(ledger, "UPDATE ledger_leaves SET idx = 11 WHERE idx = -1")
    found = findings(ledger)
    assert any(f.startswith("tile 0/0") for f in found)
    assert any(f.startswith("block 1: block root is") for f in found)


def test_a_forged_block_is_found(ledger: Services) -> None:
    sql(ledger, "UPDATE ledger_blocks SET tree_root = :r WHERE number = 2", r="ab" * 32)
    found = findings(ledger)
    assert any(f.startswith("block 2: tree root is " + "ab" * 32) for f in found)
    assert any(f.startswith("block 2: block hash is") for f in found)
    sql(
        ledger,
        "UPDATE ledger_blocks SET checkpoint = replace(checkpoint, '— ', '— x') WHERE number = 1",
    )
    assert any(f.startswith("block 1: checkpoint signature") for f in findings(ledger))


def test_a_broken_chain_is_found(ledger: Services) -> None:
    sql(ledger, "UPDATE ledger_blocks SET prev_hash = :p WHERE number = 2", p="cd" * 32)
    assert any(f.startswith("block 2: previous hash is " + "cd" * 32) for f in findings(ledger))


def test_entries_waiting_for_the_next_seal_are_not_a_finding(ledger: Services) -> None:
    ingest(ledger, 2, start=1000)
    assert findings(ledger) == []
    assert ledger.ledger.pending(ledger.instances.get("deck")) == 2
