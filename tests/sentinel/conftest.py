"""SENTINEL's shared fixtures: an ntfy stand-in and a server publishing to it."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_settings, running


class Receiver:
    """An ntfy stand-in: records each POST's path, headers and body."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body.decode()}
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"id":"x"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def ntfy() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def live(tmp_path: Path, ntfy: Receiver) -> Iterator[Live]:
    settings = make_settings(
        tmp_path / "home",
        ntfy_url=f"{ntfy.url}/tzzr-alerts",
        ntfy_token="tk_secret",
        block_interval=60,
        alert_interval=0,
    )
    with running(settings) as server:
        yield server


def kinds(client: httpx.Client, **params: Any) -> list[str]:
    return [e["kind"] for e in client.get("/sentinel/events", params=params).json()["events"]]
