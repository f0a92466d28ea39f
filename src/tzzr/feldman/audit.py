"""`tzzr audit`: recompute everything from stored entries and blobs — container
addresses, blobs, leaf hashes, stored tiles, block roots, the block chain, signatures,
and consistency between consecutive checkpoints — and name every discrepancy."""

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from tzzr.blobs import BlobStore
from tzzr.canonical import canonical_json, h_entrada
from tzzr.db.models import Entry, LedgerBlock, LedgerHead, LedgerLeaf, LedgerTile
from tzzr.db.models_devices import Device
from tzzr.feldman.signing import SigningKeys
from tzzr.instances import InstanceInfo
from tzzr.ledger import device as devices
from tzzr.ledger.blocks import GENESIS, Block, block_hash
from tzzr.ledger.checkpoint import NoteError, open_note
from tzzr.ledger.hashing import hash_leaf, root_hash
from tzzr.ledger.proof import consistency_ranges, node_hash
from tzzr.ledger.tiles import TileReader, extend
from tzzr.ledger.verify import ProofError, verify_consistency

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Finding:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def _noop(stage: str, done: int, total: int) -> None:
    pass


def _device_problem(
    record: dict[str, Any], h_instancia: str, keys_of: dict[str, tuple[str, str]]
) -> str | None:
    """What is wrong with the device signature an entry's leaf seals, or None."""
    bound, sealed = record.get("device"), record.get("device_sig")
    if not isinstance(bound, str) or not isinstance(sealed, str):
        return "its device binding needs both 'device' and 'device_sig'"
    if bound not in keys_of:
        return f"names device {bound}, which is not registered"
    alg, public_key = keys_of[bound]
    spki = base64.b64decode(public_key)
    if devices.key_id(spki) != bound:
        return f"device {bound}'s stored public key hashes to {devices.key_id(spki)}"
    try:
        devices.verify_signature(
            alg, spki, devices.message(h_instancia, str(record.get("ref"))), sealed
        )
    except (devices.SignatureError, devices.DeviceKeyError) as exc:
        return f"device signature: {exc}"
    return None


def audit(
    engine: Engine,
    keys: SigningKeys,
    store: BlobStore,
    instance: InstanceInfo,
    *,
    blobs: bool = True,
    progress: Progress = _noop,
) -> list[Finding]:
    """Every discrepancy in the instance's entries, blobs (`store` is the server's,
    unscoped; `blobs=False` skips re-hashing them) and ledger."""
    h = instance.h_instancia
    found: list[Finding] = []
    with engine.connect() as conn:
        entries = conn.execute(
            select(Entry.id, Entry.h_entrada, Entry.contenedor, Entry.leaf_index)
            .where(Entry.h_instancia == h)
            .order_by(Entry.id)
        ).all()
        leaves = conn.execute(
            select(
                LedgerLeaf.idx,
                LedgerLeaf.kind,
                LedgerLeaf.ref,
                LedgerLeaf.data,
                LedgerLeaf.leaf_hash,
            )
            .where(LedgerLeaf.h_instancia == h)
            .order_by(LedgerLeaf.idx)
        ).all()
        head = conn.execute(
            select(LedgerHead.next_index).where(LedgerHead.h_instancia == h)
        ).scalar()
        stored_tiles = {
            (r.level, r.idx): bytes(r.hashes)
            for r in conn.execute(
                select(LedgerTile.level, LedgerTile.idx, LedgerTile.hashes).where(
                    LedgerTile.h_instancia == h
                )
            )
        }
        keys_of = {
            r.id: (r.alg, r.public_key)
            for r in conn.execute(
                select(Device.id, Device.alg, Device.public_key).where(Device.h_instancia == h)
            )
        }
        blocks = [
            Block.from_row(r)
            for r in conn.execute(
                select(LedgerBlock).where(LedgerBlock.h_instancia == h).order_by(LedgerBlock.number)
            ).all()
        ]

    # 1. Entries: their addresses and their blobs.
    store = store.scoped(instance.blob_prefix)
    addresses: dict[str, int | None] = {}
    for done, row in enumerate(entries, 1):
        where = f"entry {row.h_entrada} (row {row.id})"
        addresses[row.h_entrada] = row.leaf_index
        files = row.contenedor.get("files", [])
        try:
            recomputed = h_entrada(row.contenedor.get("metadata", {}), files)
        except ValueError as exc:
            found.append(Finding(where, f"container cannot be canonicalized: {exc}"))
            recomputed = ""
        if recomputed and recomputed != row.h_entrada:
            found.append(
                Finding(where, f"container hashes to {recomputed}, expected {row.h_entrada}")
            )
        if blobs:
            for file in files:
                sha = file.get("sha256", "")
                if not store.exists(sha):
                    found.append(Finding(where, f"blob {sha} ({file.get('name')}) is missing"))
                    continue
                digest = hashlib.sha256()
                for chunk in store.read(sha):
                    digest.update(chunk)
                if digest.hexdigest() != sha:
                    found.append(
                        Finding(
                            where,
                            f"blob {sha} ({file.get('name')}) now hashes to {digest.hexdigest()}",
                        )
                    )
        progress("entries", done, len(entries))

    # 2. Leaves: contiguous, hashes match their data, entries and their leaves agree.
    hashes: list[bytes] = []
    entry_leaves: dict[int, str] = {}
    expected_index = 0
    for done, leaf in enumerate(leaves, 1):
        where = f"leaf {leaf.idx}"
        if leaf.idx != expected_index:
            found.append(
                Finding(f"leaf {expected_index}", f"missing (the next stored leaf is {leaf.idx})")
            )
        expected_index = leaf.idx + 1
        data = bytes(leaf.data)
        calculated = hash_leaf(data)
        if calculated != bytes(leaf.leaf_hash):
            found.append(
                Finding(
                    where,
                    f"stored hash {bytes(leaf.leaf_hash).hex()}, its data "
                    f"hashes to {calculated.hex()}",
                )
            )
        hashes.append(calculated)
        try:
            record = json.loads(data)
            canonical = canonical_json(record) == data
        except ValueError:
            record, canonical = {}, False
        if (
            not canonical
            or record.get("instance") != h
            or record.get("kind") != leaf.kind
            or record.get("ref") != leaf.ref
        ):
            found.append(Finding(where, "data is not this instance's canonical leaf record"))
        if leaf.kind == "entry":
            entry_leaves[leaf.idx] = leaf.ref
            if "device" in record or "device_sig" in record:
                problem = _device_problem(record, h, keys_of)
                if problem:
                    found.append(Finding(where, problem))
            if leaf.ref not in addresses:
                found.append(Finding(where, f"refers to entry {leaf.ref}, which does not exist"))
            elif addresses[leaf.ref] != leaf.idx:
                found.append(
                    Finding(
                        where,
                        f"is entry {leaf.ref}'s leaf, but that entry names "
                        f"leaf {addresses[leaf.ref]}",
                    )
                )
        progress("leaves", done, len(leaves))
    # An entry with no leaf yet waits for the next seal; one that names a leaf must have it.
    for address, index in sorted(addresses.items()):
        if index is not None and entry_leaves.get(index) != address:
            problem = (
                "is missing"
                if index not in entry_leaves
                else f"belongs to entry {entry_leaves[index]}"
            )
            found.append(Finding(f"entry {address}", f"its leaf {index} {problem}"))
    if head is not None and head != expected_index:
        found.append(
            Finding("ledger head", f"next index is {head}, but leaves end at {expected_index}")
        )

    # 3. Tiles: rebuild them from the leaf hashes of the sealed part, compare.
    sealed = blocks[-1].tree_size if blocks else 0
    rebuilt = extend(0, hashes[:sealed], lambda level, index: b"")
    for key in sorted(rebuilt.keys() | stored_tiles.keys()):
        want, have = rebuilt.get(key, b""), stored_tiles.get(key, b"")
        if want != have:
            at = next(
                i
                for i in range(0, max(len(want), len(have)), 32)
                if want[i : i + 32] != have[i : i + 32]
            )
            stored = have[at : at + 32].hex() or "absent"
            expected = want[at : at + 32].hex() or "none"
            found.append(
                Finding(
                    f"tile {key[0]}/{key[1]}",
                    f"stored hash #{at // 32} is {stored}, expected {expected}",
                )
            )
    reader = TileReader(lambda level, index: b"", rebuilt)

    # 4. Blocks: ranges, roots, chain, signatures, consistency.
    verifiers = [k.verifier_key for k in keys.public_keys(instance)]
    previous: Block | None = None
    for block in blocks:
        where = f"block {block.number}"
        start = previous.tree_size if previous else 0
        if block.number != (previous.number + 1 if previous else 1):
            found.append(Finding(where, f"follows block {previous.number if previous else 0}"))
        if block.first_index != start or block.last_index != block.tree_size - 1:
            found.append(
                Finding(
                    where,
                    f"covers leaves {block.first_index}..{block.last_index}, "
                    f"expected {start}..{block.tree_size - 1}",
                )
            )
        if block.tree_size > len(hashes):
            found.append(Finding(where, f"claims {block.tree_size} leaves; {len(hashes)} exist"))
            previous = block
            continue
        block_root = root_hash(hashes[block.first_index : block.last_index + 1]).hex()
        if block_root != block.block_root:
            found.append(
                Finding(where, f"block root is {block.block_root}, its leaves give {block_root}")
            )
        tree_root = node_hash(0, block.tree_size, reader.perfect).hex()
        if tree_root != block.tree_root:
            found.append(
                Finding(where, f"tree root is {block.tree_root}, the leaves give {tree_root}")
            )
        prev_hash = previous.block_hash if previous else GENESIS
        if block.prev_hash != prev_hash:
            found.append(
                Finding(where, f"previous hash is {block.prev_hash}, expected {prev_hash}")
            )
        if block_hash(block.header()) != block.block_hash:
            found.append(
                Finding(
                    where,
                    f"block hash is {block.block_hash}, its header hashes "
                    f"to {block_hash(block.header())}",
                )
            )
        try:
            checkpoint, _ = open_note(block.checkpoint, verifiers)
            if checkpoint.size != block.tree_size or checkpoint.root.hex() != block.tree_root:
                found.append(Finding(where, "the signed checkpoint does not match the block"))
            if f"tzzr-block {block.number} {block.block_hash}" not in checkpoint.extensions:
                found.append(Finding(where, "the signed checkpoint names another block"))
        except NoteError as exc:
            found.append(Finding(where, f"checkpoint signature: {exc}"))
        if previous is not None and 0 < previous.tree_size < block.tree_size:
            proof = [
                node_hash(a, b, reader.perfect)
                for a, b in consistency_ranges(previous.tree_size, block.tree_size)
            ]
            try:
                verify_consistency(
                    previous.tree_size,
                    block.tree_size,
                    proof,
                    bytes.fromhex(previous.tree_root),
                    bytes.fromhex(block.tree_root),
                )
            except (ProofError, ValueError) as exc:
                found.append(Finding(where, f"not consistent with block {previous.number}: {exc}"))
        previous = block
    return found
