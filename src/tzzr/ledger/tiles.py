"""Stored subtree hashes as tiles (the layout of C2SP tlog-tiles, height 8).

Tile (L, i) holds the hashes of the tree's perfect subtrees of height 8·L with
indices 256·i … 256·i + w - 1 (w <= 256; the right-most tile of a level may be
partial). Any perfect subtree (level, index) is then one tile read plus at most
127 hashes, and appending k leaves touches O(k/256 + log n) tiles.
"""

from collections.abc import Callable

from tzzr.ledger.hashing import HASH_SIZE, subtree_root
from tzzr.ledger.proof import split_point

HEIGHT = 8
WIDTH = 1 << HEIGHT
TileKey = tuple[int, int]


class TileError(RuntimeError):
    """Stored tiles do not fit together: the ledger's storage is damaged."""


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def extend(
    old_size: int, leaf_hashes: list[bytes], read: Callable[[int, int], bytes]
) -> dict[TileKey, bytes]:
    """The tiles that change when `leaf_hashes` are appended to a tree of `old_size`
    leaves; `read(level, index)` returns a stored tile (b"" when there is none)."""
    changed: dict[TileKey, bytes] = {}
    level, start, entries = 0, old_size, leaf_hashes
    while entries:
        first = start // WIDTH
        offset = start % WIDTH
        prefix = read(level, first) if offset else b""
        if len(prefix) < offset * HASH_SIZE:
            raise TileError(
                f"tile {level}/{first} holds {len(prefix) // HASH_SIZE} hashes, {offset} expected"
            )
        buffer = prefix[: offset * HASH_SIZE] + b"".join(entries)
        end = start + len(entries)
        span = WIDTH * HASH_SIZE
        completed: list[bytes] = []
        for tile in range(first, (end + WIDTH - 1) // WIDTH):
            data = buffer[(tile - first) * span : (tile - first + 1) * span]
            changed[(level, tile)] = data
            if len(data) == span:
                # A tile made only of new entries is hashed from the list as it is.
                lo = tile * WIDTH - start
                nodes = entries[lo : lo + WIDTH] if lo >= 0 else _split(data)
                completed.append(subtree_root(list(nodes)))
        level, start, entries = level + 1, start // WIDTH, completed
    return changed


class TileReader:
    """Perfect subtree hashes read from tiles; each tile is fetched once."""

    def __init__(self, fetch: Callable[[int, int], bytes], overlay: dict[TileKey, bytes]):
        self._fetch = fetch
        self._cache = dict(overlay)

    def tile(self, level: int, index: int) -> bytes:
        found = self._cache.get((level, index))
        if found is None:
            found = self._cache[(level, index)] = self._fetch(level, index)
        return found

    def perfect(self, level: int, index: int) -> bytes:
        tile_level, height = divmod(level, HEIGHT)
        first = index << height
        data = self.tile(tile_level, first >> HEIGHT)
        offset = (first & (WIDTH - 1)) * HASH_SIZE
        count = 1 << height
        chunk = data[offset : offset + count * HASH_SIZE]
        if len(chunk) != count * HASH_SIZE:
            raise TileError(f"tile {tile_level}/{first >> HEIGHT} lacks subtree {level}/{index}")
        return chunk if count == 1 else subtree_root(_split(chunk))


def tiles_for(ranges: list[tuple[int, int]]) -> set[TileKey]:
    """The tiles holding every perfect subtree that the node ranges decompose into, so a
    proof can fetch them in one query."""
    keys: set[TileKey] = set()
    for start, end in ranges:
        while start < end:
            n = end - start
            size = n if n & (n - 1) == 0 else split_point(n)
            level = size.bit_length() - 1
            tile_level, height = divmod(level, HEIGHT)
            keys.add((tile_level, ((start >> level) << height) >> HEIGHT))
            start += size
    return keys
