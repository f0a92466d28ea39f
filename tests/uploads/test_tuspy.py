"""tuspy, a tus client nobody here wrote, uploading through interruptions: the connection
cut mid-PATCH (a TCP proxy on 127.0.0.1 that drops after N bytes) and the server killed
with -9 mid-PATCH and started again; each resumes to a verified blob that is then
ingested by reference. Both shapes: local files, and PostgreSQL with S3 multipart."""

import hashlib
import io
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from tests.conftest import Live, postgres_database, s3_settings
from tests.e2e.conftest import free_port, server_process
from tests.uploads.conftest import OFFSET_TYPE, SHAPES, TUS

MiB = 1024 * 1024


class CuttingProxy:
    """Forwards 127.0.0.1:port to the server; the first connection that carries more
    than `cut_after` bytes from the client is closed there, both ways."""

    def __init__(self, upstream: str, cut_after: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.cut_after = cut_after
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, upward: bool) -> None:
        sent = 0
        try:
            while data := source.recv(64 * 1024):
                if upward and self.cuts == 0 and sent + len(data) > self.cut_after:
                    target.sendall(data[: self.cut_after - sent])
                    self.cuts += 1
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.listener.close()


def _client(url: str, key: str) -> TusClient:
    return TusClient(f"{url}/uploads", headers={"Authorization": f"Bearer {key}"})


def _ingest(url: str, key: str, digest: str, size: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        answer = client.post(
            "/ingest",
            json={
                "metadata": {"by": "tuspy", "digest": digest},
                "files": [{"name": "clip.bin", "media_type": "video/mp4", "sha256": digest}],
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["files"][0] == {
        "name": "clip.bin",
        "media_type": "video/mp4",
        "sha256": digest,
        "size": size,
        "path": answer.json()["files"][0]["path"],
    }


def test_tuspy_resumes_after_the_connection_is_cut_mid_patch(live: Live) -> None:
    data = os.urandom(6 * MiB + 123)
    digest = hashlib.sha256(data).hexdigest()
    proxy = CuttingProxy(live.url, cut_after=3 * MiB)
    try:
        client = _client(proxy.url, live.admin_key)
        first = client.uploader(
            file_stream=io.BytesIO(data), metadata={"filename": "clip.bin", "sha256": digest}
        )
        with pytest.raises((TusCommunicationError, OSError, Exception)):
            first.upload()
        assert proxy.cuts == 1
        assert first.url is not None
        # The server kept what arrived before the cut (tus core): a fresh uploader asks
        # HEAD for the offset and sends only the rest.
        deadline = time.monotonic() + 10
        with httpx.Client(headers={"Authorization": f"Bearer {live.admin_key}", **TUS}) as h:
            offset = int(h.head(first.url).headers["Upload-Offset"])
            while offset == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
                offset = int(h.head(first.url).headers["Upload-Offset"])
        assert 0 < offset < len(data)
        second = client.uploader(file_stream=io.BytesIO(data), url=first.url)
        assert second.offset == offset
        second.upload()
    finally:
        proxy.close()
    with httpx.Client(headers={"Authorization": f"Bearer {live.admin_key}", **TUS}) as h:
        assert h.head(first.url).headers["Tzzr-Sha256"] == digest
    assert live.services.blobs.scoped("deck").read_all(digest) == data
    _ingest(live.url, live.admin_key, digest, len(data))


@contextmanager
def _server_env(shape: str, home: Path) -> Iterator[dict[str, str]]:
    env = {"TZZR_HOME": str(home)}
    if shape == "postgresql-s3":
        env["TZZR_DATABASE_URL"] = postgres_database()
        env.update({f"TZZR_{k.upper()}": v for k, v in s3_settings().items()})
    yield env


def _raw_half_patch(port: int, key: str, path: str, body: bytes, total: int) -> socket.socket:
    """A PATCH that announces `total` bytes and sends only `body`, left open."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Tus-Resumable: 1.0.0\r\nContent-Type: {OFFSET_TYPE['Content-Type']}\r\n"
        f"Upload-Offset: 0\r\nContent-Length: {total}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


@pytest.mark.parametrize("shape", SHAPES)
def test_tuspy_resumes_after_the_server_is_killed_mid_patch(shape: str, tmp_path: Path) -> None:
    data = os.urandom(12 * MiB + 7)  # on S3: one 8 MiB part sent before the kill, and a tail
    digest = hashlib.sha256(data).hexdigest()
    port = free_port()
    log = tmp_path / "server.log"
    with _server_env(shape, tmp_path / "home") as env:
        with server_process(env, port, log) as process:
            key = next(line for line in log.read_text().splitlines() if line.startswith("tzzr_"))
            url = f"http://127.0.0.1:{port}"
            client = _client(url, key)
            uploader = client.uploader(
                file_stream=io.BytesIO(data), metadata={"filename": "c", "sha256": digest}
            )
            location = uploader.create_url()
            path = "/" + location.split("/", 3)[3]
            sock = _raw_half_patch(port, key, path, data[: 9 * MiB], len(data))
            time.sleep(2.5)  # past CHECKPOINT_SECONDS: the next bytes make the rest durable
            sock.sendall(data[9 * MiB : 10 * MiB])
            time.sleep(1.0)
            process.kill()  # SIGKILL mid-PATCH: no shutdown, no flush
            process.wait()
            sock.close()
        with server_process(env, port, log):
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}", **TUS}) as h:
                offset = int(h.head(path).headers["Upload-Offset"])
            assert 0 <= offset <= 10 * MiB  # only what was durable, never more
            resumed = client.uploader(file_stream=io.BytesIO(data), url=location)
            assert resumed.offset == offset
            resumed.upload()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}", **TUS}) as h:
                assert h.head(path).headers["Tzzr-Sha256"] == digest
            _ingest(url, key, digest, len(data))


def test_a_silent_patch_is_superseded_by_the_clients_head(live: Live) -> None:
    """A phone that changed networks leaves its PATCH open on the server with nobody
    behind it: the client's HEAD stops it, answers what it kept, and tuspy resumes."""
    data = os.urandom(5 * MiB)
    digest = hashlib.sha256(data).hexdigest()
    client = _client(live.url, live.admin_key)
    uploader = client.uploader(file_stream=io.BytesIO(data), metadata={"sha256": digest})
    location = uploader.create_url()
    path = "/" + location.split("/", 3)[3]
    port = int(live.url.rsplit(":", 1)[1])
    silent = _raw_half_patch(port, live.admin_key, path, data[: 2 * MiB], len(data))
    try:
        time.sleep(0.5)  # the server reads what was sent, then waits for more
        with httpx.Client(headers={"Authorization": f"Bearer {live.admin_key}", **TUS}) as h:
            offset = int(h.head(location).headers["Upload-Offset"])
        assert 0 <= offset <= 2 * MiB  # what the silent PATCH had sent, kept
        # Were it not stopped, it would hold the upload (30 s of silence) and the resumed
        # PATCH would be refused 423 after its 10 s wait: tuspy would raise.
        resumed = client.uploader(file_stream=io.BytesIO(data), url=location)
        assert resumed.offset == offset
        resumed.upload()
    finally:
        silent.close()
    assert live.services.blobs.scoped("deck").read_all(digest) == data
