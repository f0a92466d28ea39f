"""The stored log on SQLite and PostgreSQL: appends from ingest, blocks, proofs."""

import pytest

from tzzr.ledger import (
    consistency_proof,
    hash_leaf,
    inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tzzr.ledger.checkpoint import Checkpoint, open_note
from tzzr.services import Services


def ingest(services: Services, n: int, start: int = 0) -> list[str]:
    deck = services.instances.get("deck")
    made = []
    for i in range(start, start + n):
        with services.ingest.builder(deck) as builder:
            builder.set_metadata({"i": i})
            made.append(builder.finish().h_entrada)
    return made


def test_ingest_queues_a_leaf_and_seal_closes_the_queue(ledger_services: Services) -> None:
    services = ledger_services
    deck = services.instances.get("deck")
    assert services.ledger.seal(deck) is None  # an empty interval makes no block
    made = ingest(services, 5)
    assert services.ledger.pending(deck) == 5
    block = services.ledger.seal(deck)
    assert block is not None
    assert (block.number, block.first_index, block.last_index, block.tree_size) == (1, 0, 4, 5)
    assert block.prev_hash == "0" * 64
    assert services.ledger.pending(deck) == 0
    assert services.ledger.seal(deck) is None
    assert services.ledger.leaf_index(deck, made[3]) == 3

    more = ingest(services, 7, start=5)
    second = services.ledger.seal(deck)
    assert second is not None
    assert second.prev_hash == block.block_hash
    assert (second.first_index, second.tree_size) == (5, 12)

    # Every proof from storage equals the pure in-memory proof and verifies.
    keys = [k.verifier_key for k in services.ledger.keys.public_keys(deck)]
    leaves = [services.ledger.inclusion(deck, i, 12).leaf for i in range(12)]
    hashes = [hash_leaf(leaf) for leaf in leaves]
    for size in (5, 12):
        checkpoint, _ = open_note(services.ledger.inclusion(deck, 0, size).checkpoint, keys)
        assert checkpoint.size == size
        assert checkpoint.root == root_hash(hashes[:size])
        for index in range(size):
            got = services.ledger.inclusion(deck, index, size)
            assert got.proof == inclusion_proof(hashes[:size], index)
            verify_inclusion(hashes[index], index, size, got.proof, checkpoint.root)
    proof, one, two = services.ledger.consistency(deck, 5, 12)
    assert proof == consistency_proof(hashes, 5)
    verify_consistency(5, 12, proof, bytes.fromhex(one.tree_root), bytes.fromhex(two.tree_root))
    assert [m for m in more if services.ledger.leaf_index(deck, m) >= 5] == more


def test_checkpoint_is_a_signed_note_with_the_block(ledger_services: Services) -> None:
    services = ledger_services
    deck = services.instances.get("deck")
    ingest(services, 3)
    block = services.ledger.seal(deck)
    assert block is not None
    keys = [k.verifier_key for k in services.ledger.keys.public_keys(deck)]
    checkpoint, key = open_note(block.checkpoint, keys)
    assert key == keys[0]
    assert checkpoint == Checkpoint(
        f"tzzr/deck/{deck.h_instancia[:16]}",
        3,
        bytes.fromhex(block.tree_root),
        (f"tzzr-block 1 {block.block_hash}",),
    )
    key_file = services.settings.home / "keys" / "deck" / f"{block.key_id}.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_proofs_only_against_sealed_sizes(ledger_services: Services) -> None:
    from tzzr.errors import InvalidInput, NotFound

    services = ledger_services
    deck = services.instances.get("deck")
    ingest(services, 3)
    with pytest.raises(NotFound, match="nothing is sealed"):
        services.ledger.inclusion(deck, 0)
    services.ledger.seal(deck)
    ingest(services, 1, start=3)
    with pytest.raises(NotFound, match="not sealed yet"):
        services.ledger.inclusion(deck, 3)
    with pytest.raises(InvalidInput, match="not a sealed tree size"):
        services.ledger.inclusion(deck, 0, 2)


def test_leaves_written_below_the_orm_read_back_like_orm_rows(
    ledger_services: Services,
) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import select

    from tzzr.db.engine import write_transaction
    from tzzr.db.models import LedgerLeaf
    from tzzr.ledger.leaves import leaf_bytes

    services = ledger_services
    deck = services.instances.get("deck")
    h = deck.h_instancia
    madrid = timezone(timedelta(hours=2))
    stamps = [
        datetime(2026, 5, 1, 12, 0, 0, 0, madrid),  # no microseconds, not UTC
        datetime(2026, 5, 1, 12, 0, 0, 123456, madrid),
    ]
    records = [
        ("entry", "ab" * 32, "cd" * 32, stamps[0], None),
        ("attestation", "run:7", "ef" * 32, stamps[1], {"cell": "ocr", "n": 3}),
        ("artifact", 'a "quoted"\tref', "01" * 32, stamps[1], None),
    ]
    with write_transaction(services.engine) as conn:
        first = services.ledger.append_all_in(conn, h, records)
    with services.engine.connect() as conn:
        rows = conn.execute(
            select(LedgerLeaf).where(LedgerLeaf.h_instancia == h).order_by(LedgerLeaf.idx)
        ).all()
    assert [row.idx for row in rows] == [first, first + 1, first + 2]
    for row, (kind, ref, digest, ts, extra) in zip(rows, records, strict=True):
        assert (row.kind, row.ref) == (kind, ref)
        assert bytes(row.data) == leaf_bytes(kind, h, ref, digest, ts, extra)
        assert bytes(row.leaf_hash) == hash_leaf(bytes(row.data))
        assert row.created_at == ts and row.created_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="naive"), write_transaction(services.engine) as conn:
        services.ledger.append_in(conn, h, "entry", "x", "y", datetime(2026, 5, 1))
    assert services.ledger.pending(deck) == 3  # the refused leaf took nothing with it
