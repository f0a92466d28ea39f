"""A small tus 1.0.0 client for `tzzr ingest --url`: large files go to `/uploads` in
PATCHes of `chunk_size` bytes, each with `Upload-Checksum: sha256 …`, and are then
ingested by reference (their sha256 in a JSON `POST /ingest`).

An interrupted run resumes: each file's upload URL is kept in a state file named after
the server, the key's id and the file's path, with the file's size and modification
time (a file that changed starts over); the server's offset (HEAD) says where to go on,
and the bytes
before it are re-read here, not re-sent, to hash the whole file. An upload the server no
longer knows (expired, terminated) starts over. The state file goes once the file's
container is ingested.
"""

import base64
import hashlib
import json
import mimetypes
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BufferedReader
from pathlib import Path
from typing import Any, cast
from urllib.parse import urljoin

import httpx

VERSION = "1.0.0"
BLOCK = 1024 * 1024  # read from the file at a time; one progress step
RETRIES = 4
CHECKSUM_RETRIES = 3


class TusError(Exception):
    """An upload that cannot go on; the message says why and what to do."""


def describe(response: httpx.Response) -> str:
    """The server's message in a problem body, or the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("error", {}).get("message") if isinstance(body, dict) else None
    text = f"HTTP {response.status_code}"
    return f"{text}: {message}" if message else f"{text} {response.reason_phrase}"


def refusal(response: httpx.Response) -> TusError:
    """A clear error for an answer the upload cannot go on after."""
    status = response.status_code
    if status == 401:
        return TusError("the server refused the key (401); check --key or TZZR_KEY")
    if status == 403:
        return TusError(f"{describe(response)} (a key with the role ingest can upload)")
    if status == 413:
        return TusError(f"too large for this server ({describe(response)})")
    if status == 460:
        return TusError(
            f"the server received other bytes than were sent, {CHECKSUM_RETRIES} "
            "times (460 checksum mismatch): something on the way changes them"
        )
    if status == 404 and "tus-resumable" not in response.headers:
        return TusError(f"this server has no tus endpoint at /uploads ({describe(response)})")
    return TusError(f"{describe(response)}")


class Unreachable(TusError):
    """The server did not answer at all (down, or the network is)."""


def unreachable(url: str, exc: httpx.TransportError) -> Unreachable:
    return Unreachable(f"cannot reach {url} ({exc or type(exc).__name__}): is the server running?")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tzzr" / "uploads"


@dataclass(frozen=True)
class Options:
    chunk_size: int = 64 * 1024 * 1024
    checksum: bool = True
    limit_rate: float | None = None  # bytes per second
    state_dir: Path = field(default_factory=default_state_dir)


Progress = Callable[[int], None]  # bytes sent (or skipped on resume)
Say = Callable[[str], None]  # one plain line for the person


def key_id(key: str) -> str:
    """The public part of `tzzr_<key_id>_<secret>`; never the secret (a digest of an
    unknown shape of key, so it still names one instance)."""
    parts = key.split("_")
    if len(parts) >= 3 and parts[0] == "tzzr":
        return parts[1]
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class StateFile:
    """Where one file's upload to one server with one key lives between runs."""

    def __init__(self, state_dir: Path, server: str, key: str, path: Path) -> None:
        stat = path.stat()
        self.size = stat.st_size
        where = [server.rstrip("/"), key_id(key), str(path.resolve())]
        # Named without the size and time, so a changed file's state is replaced, not kept.
        name = hashlib.sha256(json.dumps(where).encode()).hexdigest()
        self.path = state_dir / f"{name[:32]}.json"
        self.identity: dict[str, Any] = {
            "server": where[0],
            "key_id": where[1],
            "path": where[2],
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }

    def load(self) -> str | None:
        """The upload URL of an earlier run, if one was kept for this very file."""
        try:
            saved = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if not isinstance(saved, dict) or saved.get("identity") != self.identity:
            return None
        url = saved.get("upload_url")
        return url if isinstance(url, str) else None

    def save(self, upload_url: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"identity": self.identity, "upload_url": upload_url}))
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _metadata(path: Path) -> str:
    pairs = {"filename": path.name, "filetype": media_type(path)}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


class _Pacer:
    """At most `rate` bytes a second over the whole upload (none: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self._rate = rate
        self._start = time.monotonic()
        self._sent = 0

    def sent(self, size: int) -> None:
        if not self._rate:
            return
        self._sent += size
        ahead = self._sent / self._rate - (time.monotonic() - self._start)
        if ahead > 0:
            time.sleep(ahead)


@dataclass
class Uploaded:
    path: Path
    sha256: str
    size: int
    resumed_at: int  # the server's offset this run began at (0: from the start)
    state: StateFile


class Uploader:
    """Uploads files to one server through tus; `client` carries the base URL and key."""

    def __init__(
        self, client: httpx.Client, key: str, options: Options, progress: Progress, say: Say
    ) -> None:
        self._client = client
        self._key = key
        self._options = options
        self._progress = progress
        self._say = say
        self._pacer = _Pacer(options.limit_rate)
        self._base = str(client.base_url).rstrip("/")

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Tus-Resumable": VERSION, **kwargs.pop("headers", {})}
        try:
            return self._client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise unreachable(self._base, exc) from exc

    def upload(self, path: Path) -> Uploaded:
        state = StateFile(self._options.state_dir, self._base, self._key, path)
        size = state.size
        url, offset = self._resume(state, path)
        if url is None:
            url, offset = self._create(state, path, size), 0
        resumed_at = offset
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            if offset:
                self._say(f"{path}: resuming at {offset} of {size} bytes")
                self._rehash(handle, digest, offset)
                self._progress(offset)
            attempts = 0
            while offset < size:
                try:
                    offset, digest = self._patch(url, handle, digest, offset, size)
                    attempts = 0
                except TusError:
                    raise
                except (httpx.TransportError, _Retry) as exc:
                    attempts += 1
                    if attempts > RETRIES:
                        raise TusError(f"gave up after {RETRIES} retries ({exc})") from exc
                    time.sleep(min(2.0**attempts / 4, 4.0))
                    try:
                        known = self._offset(url, path)
                    except Unreachable:
                        continue  # still down: another attempt
                    if known is None:
                        raise TusError("the server lost the upload; run again") from exc
                    if known != offset:
                        digest = hashlib.sha256()
                        self._rehash(handle, digest, known)
                        offset = known
        sha256 = digest.hexdigest()
        self._check_complete(url, path, sha256)
        return Uploaded(path, sha256, size, resumed_at, state)

    def _resume(self, state: StateFile, path: Path) -> tuple[str | None, int]:
        url = state.load()
        if url is None:
            return None, 0
        offset = self._offset(url, path)
        if offset is None:
            self._say(f"{path}: the server no longer has the earlier upload; starting over")
            state.remove()
            return None, 0
        return url, offset

    def _offset(self, url: str, path: Path) -> int | None:
        """The server's offset of an upload, None when it is gone (expired, terminated,
        never there)."""
        response = self._request("HEAD", url)
        if response.status_code in (404, 410):
            return None
        if response.status_code != 200:
            raise refusal(response)
        return int(response.headers["upload-offset"])

    def _create(self, state: StateFile, path: Path, size: int) -> str:
        response = self._request(
            "POST",
            "/uploads",
            headers={"Upload-Length": str(size), "Upload-Metadata": _metadata(path)},
        )
        if response.status_code != 201 or "location" not in response.headers:
            raise refusal(response)
        url = urljoin(self._base + "/", response.headers["location"])
        state.save(url)
        return url

    def _rehash(self, handle: BufferedReader, digest: "hashlib._Hash", offset: int) -> None:
        for block in _blocks(handle, 0, offset):
            digest.update(block)

    def _patch(
        self, url: str, handle: BufferedReader, digest: "hashlib._Hash", offset: int, size: int
    ) -> tuple[int, "hashlib._Hash"]:
        """One PATCH of up to `chunk_size` bytes from `offset`; the new offset and the
        file's digest so far. The chunk is read twice (its checksum goes before its
        bytes), never held: memory stays at one block whatever the chunk size."""
        length = min(self._options.chunk_size, size - offset)
        headers = {
            "Tus-Resumable": VERSION,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),
        }
        if self._options.checksum:
            chunk_sha = hashlib.sha256()
            for block in _blocks(handle, offset, length):
                chunk_sha.update(block)
            headers["Upload-Checksum"] = f"sha256 {base64.b64encode(chunk_sha.digest()).decode()}"
        for attempt in range(1, CHECKSUM_RETRIES + 1):
            sent = digest.copy()  # the file's digest goes on only once the server has it
            response = self._client.patch(
                url,
                headers=headers,
                # memoryviews of one buffer: h11 joins each into the bytes it sends
                content=cast(Iterator[bytes], self._send(handle, offset, length, sent)),
            )
            if response.status_code != 460 or attempt == CHECKSUM_RETRIES:
                break
            self._say(f"{handle.name}: the server's checksum differed; sending the chunk again")
        if response.status_code == 409:
            raise _Retry(describe(response))  # an offset we did not expect: ask again
        if response.status_code in (423, 500, 502, 503, 504):
            raise _Retry(describe(response))
        if response.status_code != 204:
            raise refusal(response)
        new = int(response.headers["upload-offset"])
        if new != offset + length:
            raise _Retry(f"the server's offset is {new}, not {offset + length}")
        return new, sent

    def _send(
        self, handle: BufferedReader, offset: int, length: int, digest: "hashlib._Hash"
    ) -> Iterator[memoryview]:
        for block in _blocks(handle, offset, length):
            digest.update(block)
            yield block
            self._progress(len(block))
            self._pacer.sent(len(block))

    def _check_complete(self, url: str, path: Path, sha256: str) -> None:
        response = self._request("HEAD", url)
        if response.status_code != 200:
            raise refusal(response)
        stored = response.headers.get("tzzr-sha256")
        if stored is not None and stored != sha256:
            raise TusError(f"the server stored sha256 {stored}, but the file hashes to {sha256}")


def _blocks(handle: BufferedReader, offset: int, length: int) -> Iterator[memoryview]:
    """`length` bytes from `offset`, read into one reused buffer: each block is valid
    until the next is asked for (hashing and sending both use it at once; h11 copies
    what it sends)."""
    buffer = memoryview(bytearray(min(BLOCK, length)))
    handle.seek(offset)
    while length > 0:
        size = handle.readinto(buffer[: min(len(buffer), length)])
        if not size:
            raise TusError(f"{handle.name} became shorter while it was being sent")
        length -= size
        yield buffer[:size]


class _Retry(Exception):
    """An answer after which the upload goes on from the server's offset."""


def ingest_uploaded(
    client: httpx.Client, files: list[Uploaded], metadata: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """`POST /ingest` naming the uploaded files by sha256 (ingest by reference); returns
    (status, body) for 200 and 409, raises TusError otherwise."""
    body = {
        "metadata": metadata,
        "files": [
            {"name": f.path.name, "media_type": media_type(f.path), "sha256": f.sha256}
            for f in files
        ],
    }
    try:
        response = client.post("/ingest", json=body)
    except httpx.TransportError as exc:
        raise unreachable(str(client.base_url), exc) from exc
    if response.status_code not in (200, 409):
        raise refusal(response)
    answer: dict[str, Any] = response.json()
    if response.status_code == 200:
        stored = [f["sha256"] for f in answer["files"]]
        if stored != [f.sha256 for f in files]:
            raise TusError(f"server stored {stored}, but we sent {[f.sha256 for f in files]}")
    for uploaded in files:
        uploaded.state.remove()
    return response.status_code, answer
