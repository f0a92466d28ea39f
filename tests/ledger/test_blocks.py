"""Blocks: a block's own root, from tiles where they align."""

from tzzr.ledger import hash_leaf, root_hash
from tzzr.ledger.blocks import block_root
from tzzr.ledger.tiles import TileReader, extend


def test_block_roots_reuse_tiles_only_where_they_align() -> None:
    hashes = [hash_leaf(b"%d" % i) for i in range(5000)]
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    for start, end in ((0, 300), (300, 512), (512, 513), (513, 4000), (4000, 5000)):
        stored.update(extend(size, hashes[start:end], lambda lv, i: stored.get((lv, i), b"")))
        size = end
        reader = TileReader(lambda lv, i: stored.get((lv, i), b""), {})
        assert block_root(start, hashes[start:end], reader) == root_hash(hashes[start:end])
