"""Publishing a log as static C2SP tlog-tiles, so that any web server or CDN can serve
verification: `checkpoint`, hash tiles `tile/<L>/<N>[.p/<W>]` and entry bundles
`tile/entries/<N>[.p/<W>]`, where N is written in 3-digit groups (x001/x234/067)."""

from collections.abc import Callable

from tzzr.ledger.hashing import HASH_SIZE
from tzzr.ledger.tiles import WIDTH, TileReader

PREFIX = "tlog"


def encode_index(n: int) -> str:
    """C2SP tlog-tiles: decimal, zero-padded to a multiple of 3 digits, in groups of 3,
    every group but the last prefixed with "x"."""
    digits = str(n)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def _partial(width: int) -> str:
    return "" if width == WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = WIDTH) -> str:
    return f"tile/{level}/{encode_index(index)}{_partial(width)}"


def entries_path(index: int, width: int = WIDTH) -> str:
    return f"tile/entries/{encode_index(index)}{_partial(width)}"


def bundle(entries: list[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length, then its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise ValueError("a tlog entry is limited to 65535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + size])
        offset += 2 + size
    return entries


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of `size` leaves."""
    count = size >> (8 * level)  # nodes at the tile's row
    return min(WIDTH, count - index * WIDTH)


def reader(fetch: Callable[[str], bytes], size: int) -> TileReader:
    """Perfect subtree hashes of a tree of `size` leaves from published tiles alone;
    feed it to `tzzr.ledger.proof.node_hash` to build any proof for that size."""

    def tile(level: int, index: int) -> bytes:
        data = fetch(tile_path(level, index, tile_width(level, index, size)))
        if len(data) % HASH_SIZE:
            raise ValueError(f"tile {level}/{index} is not a whole number of hashes")
        return data

    return TileReader(tile, {})
