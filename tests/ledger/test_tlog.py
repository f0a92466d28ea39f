"""A log published as C2SP tlog-tiles can be verified from the published files alone."""

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.feldman.test_log import ingest
from tzzr.ledger import hash_leaf, verify_inclusion
from tzzr.ledger.checkpoint import open_note
from tzzr.ledger.proof import inclusion_ranges, node_hash
from tzzr.ledger.tlog import bundle, encode_index, entries_path, reader, tile_path, unbundle
from tzzr.services import Services


def test_paths_follow_the_spec() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1000) == "x001/000"
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 2, 8) == "tile/1/002.p/8"
    assert entries_path(3, 17) == "tile/entries/003.p/17"
    assert unbundle(bundle([b"a", b"", b"xyz"])) == [b"a", b"", b"xyz"]


@pytest.mark.parametrize("blob", ["local", "s3"])
def test_a_verifier_needs_only_the_published_files(blob: str, tmp_path: Path) -> None:
    services = Services.build(make_settings(tmp_path, f"sqlite-{blob}", publish_tiles=True))
    try:
        services.bootstrap()
        deck = services.instances.get("deck")
        keys = [k.verifier_key for k in services.ledger.keys.public_keys(deck)]
        store = services.blobs.scoped("deck")

        def fetch(path: str) -> bytes:
            return store.read_named(f"tlog/{path}")

        for batch, total in ((3, 3), (300, 303), (260, 563)):  # crosses tile edges
            ingest(services, batch, start=total - batch)
            services.ledger.seal(deck)  # publishes after sealing
            keys = keys or [k.verifier_key for k in services.ledger.keys.public_keys(deck)]
            checkpoint, _ = open_note(fetch("checkpoint").decode(), keys)
            assert checkpoint.size == total
            tiles = reader(fetch, total)
            entries = [
                e
                for b in range(0, total, 256)
                for e in unbundle(fetch(entries_path(b // 256, min(256, total - b))))
            ]
            assert len(entries) == total
            for index in (0, 1, total // 2, total - 1):
                proof = [node_hash(a, b, tiles.perfect) for a, b in inclusion_ranges(index, total)]
                verify_inclusion(hash_leaf(entries[index]), index, total, proof, checkpoint.root)
        assert services.ledger.publish(deck, services.blobs) > 0  # full republish works too
        assert [b.sha256 for b in store.list()] == []  # named files are not blobs (gc-safe)
    finally:
        services.close()
