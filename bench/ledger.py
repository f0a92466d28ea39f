"""Ledger benchmark (issue 3).

In one process, against references measured in the same run:
1. append 1,000,000 leaves durably (SQLite, canonical leaf records) and seal them into one
   block; goal: sealing within 3x the time of computing 2,000,000 raw SHA-256 hashes;
2. proof generation (from stored tiles) and verification at 1M leaves, and at 10M leaves
   (tiles built from 10M leaf hashes and stored in SQLite); goals: < 2 ms and < 0.2 ms;
3. the same operations with pymerkle 7 (InmemoryTree, SqliteTree); goals: >= 10x
   pymerkle's in-memory append throughput, durable append >= SqliteTree's;
4. with TZZR_TEST_DATABASE_URL set (scripts/services.sh), 1. and 2. on PostgreSQL too.
Prints figures and ratios; asserts nothing.
"""

import argparse
import gc
import hashlib
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tzzr.config import Settings
from tzzr.ledger import hash_leaf, verify_inclusion
from tzzr.ledger.proof import inclusion_ranges, node_hash
from tzzr.ledger.tiles import TileReader, extend
from tzzr.services import Services


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def per_call(fn: Callable[[int], object], count: int) -> float:
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    return (time.perf_counter() - start) / count


def raw_hashes(n: int) -> float:
    """Best of three: the conservative reference (a faster one raises our ratios)."""
    data = [b"%090d" % i for i in range(n)]
    sha = hashlib.sha256
    return min(timed(lambda: [sha(d).digest() for d in data]) for _ in range(3))


def postgres_database(base: str) -> str:
    """A fresh database on the server of `base` (a postgresql+psycopg:// URL)."""
    import psycopg

    name = f"tzzr_bench_{os.getpid()}"
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def ours(work: Path, n: int, samples: int, database_url: str | None = None) -> dict[str, float]:
    if database_url is None:
        settings = Settings(home=work / "tzzr", block_interval=0)
    else:
        settings = Settings(home=work / "tzzr-pg", block_interval=0, database_url=database_url)
    services = Services.build(settings)
    deck = services.instances.add("deck")
    ts = datetime.now(UTC)
    batch = 100_000

    def append_all() -> None:
        for k in range(0, n, batch):
            records = [("entry", f"{i:064x}", f"{i:064x}", ts) for i in range(k, k + batch)]
            services.ledger.append_many(deck.h_instancia, records[: n - k])

    append = timed(append_all)
    gc.collect()  # a server does not hold a million records while it seals
    seal = timed(lambda: services.ledger.seal(deck))
    rng = random.Random(1)
    indices = [rng.randrange(n) for _ in range(samples)]
    proofs = [services.ledger.inclusion(deck, i) for i in indices[:50]]  # warm
    prove = per_call(lambda k: services.ledger.inclusion(deck, indices[k]), samples)
    proofs = [services.ledger.inclusion(deck, i) for i in indices]
    hashes = [hash_leaf(p.leaf) for p in proofs]
    verify = per_call(
        lambda k: verify_inclusion(hashes[k], proofs[k].index, n, proofs[k].proof, proofs[k].root),
        samples,
    )
    # The Merkle structure alone: leaf hashing plus tile building, in memory.
    leaves = [b"%090d" % i for i in range(n)]
    tree = timed(lambda: extend(0, [hash_leaf(d) for d in leaves], lambda lv, i: b""))
    services.close()
    return {"append": append, "seal": seal, "prove": prove, "verify": verify, "tree": tree}


def ten_million(work: Path, n: int, samples: int) -> dict[str, float]:
    """Tiles for n leaves stored in SQLite; proofs generated through the same TileReader
    path the log uses, reading tiles from the database."""
    hashes = [hash_leaf(b"%d" % i) for i in range(n)]
    tiles = extend(0, hashes, lambda lv, i: b"")
    db = sqlite3.connect(work / "tiles.db")
    db.execute("CREATE TABLE t (level INTEGER, idx INTEGER, hashes BLOB, PRIMARY KEY (level, idx))")
    db.executemany("INSERT INTO t VALUES (?, ?, ?)", [(k[0], k[1], v) for k, v in tiles.items()])
    db.commit()

    def fetch(level: int, index: int) -> bytes:
        row = db.execute(
            "SELECT hashes FROM t WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        return bytes(row[0]) if row else b""

    root = node_hash(0, n, TileReader(fetch, {}).perfect)
    rng = random.Random(2)
    indices = [rng.randrange(n) for _ in range(samples)]

    def prove(k: int) -> list[bytes]:
        reader = TileReader(fetch, {})  # a fresh reader per proof: no warm tile cache
        return [node_hash(a, b, reader.perfect) for a, b in inclusion_ranges(indices[k], n)]

    generate = per_call(prove, samples)
    proofs = [prove(k) for k in range(samples)]
    verify = per_call(
        lambda k: verify_inclusion(hashes[indices[k]], indices[k], n, proofs[k], root), samples
    )
    return {"prove": generate, "verify": verify}


def pymerkle_ops(work: Path, n: int, samples: int) -> dict[str, float]:
    from pymerkle import InmemoryTree, SqliteTree
    from pymerkle import verify_inclusion as pm_verify

    leaves = [b"%090d" % i for i in range(n)]
    tree = InmemoryTree(algorithm="sha256")
    append = timed(lambda: [tree.append_entry(d) for d in leaves])
    root_time = timed(lambda: tree.get_root())
    rng = random.Random(1)
    indices = [rng.randrange(n) + 1 for _ in range(samples)]
    prove = per_call(lambda k: tree.prove_inclusion(indices[k]), samples)
    proofs = [tree.prove_inclusion(i) for i in indices]
    root = tree.get_root()
    bases = [tree.get_leaf(i) for i in indices]
    verify = per_call(lambda k: pm_verify(bases[k], root, proofs[k]), samples)
    with SqliteTree(str(work / "pymerkle.db")) as stored:
        durable = timed(lambda: stored.append_entries(leaves))
    return {
        "append": append,
        "root": root_time,
        "prove": prove,
        "verify": verify,
        "durable": durable,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=10_000_000, help="0 to skip")
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    n = args.leaves
    with tempfile.TemporaryDirectory(prefix="tzzr-bench-ledger-") as tmp:
        work = Path(tmp)
        reference = raw_hashes(2 * n)
        mine = ours(work, n, args.samples)
        theirs = pymerkle_ops(work, n, args.samples)
        print(f"\n## ledger, {n:,} leaves (SQLite)")
        print(f"reference: {2 * n:,} raw SHA-256 hashes      {reference:8.2f} s")
        print(
            f"append (durable, canonical leaves)      {mine['append']:8.2f} s  "
            f"{n / mine['append']:>10,.0f} leaves/s"
        )
        print(
            f"seal into one signed block              {mine['seal']:8.2f} s  "
            f"= {mine['seal'] / reference:.2f}x the reference (goal <= 3x)"
        )
        print(f"proof generation (stored tiles)         {mine['prove'] * 1e3:8.3f} ms")
        print(f"proof verification                      {mine['verify'] * 1e3:8.3f} ms")
        print("\n## pymerkle 7.0.0, same leaves")
        print(
            f"InmemoryTree append                     {theirs['append']:8.2f} s  "
            f"{n / theirs['append']:>10,.0f} leaves/s"
        )
        print(
            f"InmemoryTree prove / verify             {theirs['prove'] * 1e3:8.3f} ms / "
            f"{theirs['verify'] * 1e3:.3f} ms"
        )
        print(
            f"SqliteTree append_entries (durable)     {theirs['durable']:8.2f} s  "
            f"{n / theirs['durable']:>10,.0f} leaves/s"
        )
        print("\n## append throughput ratios (goal >= 10x)")
        print(
            f"tree append, in memory (hash + tiles): {mine['tree']:.2f} s -> "
            f"{theirs['append'] / mine['tree']:.1f}x pymerkle InmemoryTree"
        )
        print(
            f"durable append vs SqliteTree:          "
            f"{theirs['durable'] / mine['append']:.2f}x (goal >= 1x)"
        )
        print(
            f"durable append + seal vs SqliteTree:   "
            f"{theirs['durable'] / (mine['append'] + mine['seal']):.2f}x"
        )
        url = os.environ.get("TZZR_TEST_DATABASE_URL")
        if url:
            pg = ours(work, n, args.samples, postgres_database(url))
            print(f"\n## ledger, {n:,} leaves (PostgreSQL)")
            print(
                f"append (durable, canonical leaves)      {pg['append']:8.2f} s  "
                f"{n / pg['append']:>10,.0f} leaves/s  "
                f"= {theirs['durable'] / pg['append']:.2f}x SqliteTree"
            )
            print(
                f"seal into one signed block              {pg['seal']:8.2f} s  "
                f"= {pg['seal'] / reference:.2f}x the reference"
            )
            print(f"proof generation (stored tiles)         {pg['prove'] * 1e3:8.3f} ms")
        if args.big:
            big = ten_million(work, args.big, args.samples)
            print(f"\n## {args.big:,} leaves (tiles in SQLite)")
            print(
                f"proof generation {big['prove'] * 1e3:.3f} ms (goal < 2 ms), "
                f"verification {big['verify'] * 1e3:.3f} ms (goal < 0.2 ms)"
            )


if __name__ == "__main__":
    main()
