"""How many bytes a cell is given. A cell gets its input whole, in memory, while a
capture may be gigabytes: the stored size is checked against the cell's limit before a
byte is read, and a larger input is refused (413 for a request, a `too_large` run or
step in a worker)."""

from collections.abc import Callable

from tzzr.blobs import BlobStore
from tzzr.cells.base import Cell, Payload
from tzzr.cells.envelope import Envelope, load_payload
from tzzr.cells.registry import Registry
from tzzr.errors import TooLarge
from tzzr.types import HexDigest

SETTING = "TZZR_CELL_MAX_INPUT_BYTES"


def input_limit(cell: Cell, default: int) -> int:
    """The cell's own `max_input_bytes`, else `default` (the `cell_max_input_bytes`
    setting)."""
    own = getattr(cell, "max_input_bytes", None)
    return default if own is None else int(own)


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def check_input_size(cell: Cell, size: int, default: int, field: str = "input") -> None:
    """TooLarge, naming the limit and where it comes from, when `size` is over it."""
    limit = input_limit(cell, default)
    if size <= limit:
        return
    source = (
        f"the {cell.meta.id} cell's max_input_bytes"
        if getattr(cell, "max_input_bytes", None) is not None
        else SETTING
    )
    raise TooLarge(
        f"the input is {_size(size)} ({size} bytes); {cell.meta.id} takes at most "
        f"{_size(limit)} ({limit} bytes, {source}): send a smaller file, or raise the limit",
        field=field,
    )


def read_input(
    store: BlobStore, digest: HexDigest, cell: Cell, default: int, size: int | None = None
) -> bytes:
    """A blob's bytes for `cell`, refused before they are read when they are more than
    it takes. `size` is the size already known (an entry's file); else it is asked of
    the store. A missing blob raises FileNotFoundError, as `read_all` does."""
    if size is None:
        size = store.size(digest)
    if size is not None:
        check_input_size(cell, size, default)
    return store.read_all(digest)


def payload_loader(
    cells: Registry, store: BlobStore | None, default: int
) -> Callable[[Envelope], Payload]:
    """GRACE's payload loader with the routed cell's limit: a blob payload's size is
    checked before it is read, a base64 one's once decoded (the body limit came first)."""

    def load(envelope: Envelope) -> Payload:
        cell = cells.module(envelope.routing.module)
        return load_payload(
            envelope,
            store,
            input_limit(cell, default),
            lambda size: check_input_size(cell, size, default, "payload.content"),
        )

    return load
