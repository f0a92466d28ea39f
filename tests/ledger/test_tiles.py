from tzzr.ledger import hash_leaf, root_hash
from tzzr.ledger.proof import node_hash
from tzzr.ledger.tiles import WIDTH, TileReader, extend


def test_tiles_built_in_uneven_batches_answer_like_the_whole_tree() -> None:
    hashes = [hash_leaf(b"%d" % i) for i in range(3 * WIDTH * WIDTH // 64 + 77)]
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    for batch in (1, 2, 255, 1, 256, 700, 3000, 4000, len(hashes)):
        new = hashes[size : size + batch]
        stored.update(extend(size, new, lambda lv, i: stored.get((lv, i), b"")))
        size += len(new)
        reader = TileReader(lambda lv, i: stored.get((lv, i), b""), {})
        assert node_hash(0, size, reader.perfect) == root_hash(hashes[:size])
    assert size == len(hashes)
    assert (1, 0) in stored  # a second level of tiles exists


def test_tiles_for_names_every_tile_a_proof_reads() -> None:
    from tzzr.ledger.proof import consistency_ranges, inclusion_ranges
    from tzzr.ledger.tiles import tiles_for

    hashes = [hash_leaf(b"%d" % i) for i in range(70_000)]
    stored = extend(0, hashes, lambda lv, i: b"")
    for size in (1, 255, 256, 257, 65_536, 65_537, 70_000):
        for ranges in (
            inclusion_ranges(size // 3, size),
            consistency_ranges(max(1, size // 2), size),
        ):
            read: set[tuple[int, int]] = set()

            def fetch(level: int, index: int, read: set[tuple[int, int]] = read) -> bytes:
                read.add((level, index))
                return stored.get((level, index), b"")

            reader = TileReader(fetch, {})
            for a, b in ranges:
                node_hash(a, b, reader.perfect)
            assert read <= tiles_for(ranges), size
