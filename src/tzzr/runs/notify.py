"""Run ends, told to the requests that wait for them (`GET /api/runs/{id}?wait=`): a
waiting request wakes when its run ends instead of polling the database.

One interface, two backends, chosen by the queue:
- Redis queue (workers on many machines): a worker PUBLISHes `<h_instancia>/<run id>` on
  the channel `<queue name>:ended`; each server process holds one subscription.
- SQLite queue (one machine): each server process binds a UNIX datagram socket in
  `$TZZR_HOME/notify/`, and a worker sends one datagram to every socket there (a socket
  left by a server that died refuses it, and is removed).
A notification is only a hint: the waiter reads the run from the database again, and
also every FALLBACK_SECONDS, so a lost notification only delays the answer."""

import asyncio
import atexit
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tzzr.config import Settings
from tzzr.queue import run_message

log = logging.getLogger("tzzr.notify")
FALLBACK_SECONDS = 1.0  # a waiter reads its run at least this often
RECONNECT_SECONDS = 1.0
MAX_KEY_BYTES = 256
# sockaddr_un holds 108 bytes with the final NUL; a longer TZZR_HOME falls back to polling
MAX_SOCKET_PATH = 107


class Notifier:
    """`notify` on the worker's side; `watch` + `wait` on the server's. A backend
    implements `_send(key)`, `_listen()` (blocks, calling `_wake(key)` for each key,
    until closed) and may extend `close()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._listener: threading.Thread | None = None
        self.closed = threading.Event()

    def notify(self, h_instancia: str, run_id: str) -> None:
        """Tell the waiting servers that the run ended (after its transaction committed).
        Never raises: a notification lost is only a delay."""
        try:
            self._send(run_message(h_instancia, run_id))
        except Exception as exc:
            log.debug("a run's end could not be told: %s", exc)

    @contextmanager
    def watch(self, h_instancia: str, run_id: str) -> Iterator[asyncio.Event]:
        """An event set when the run ends. Enter it before reading the run's status, so
        that an end between the read and the wait is not missed."""
        self._listen_once()
        key = run_message(h_instancia, run_id)
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(key, set()).add(waiter)
        try:
            yield waiter[1]
        finally:
            with self._lock:
                waiting = self._waiters.get(key)
                if waiting is not None:
                    waiting.discard(waiter)
                    if not waiting:
                        del self._waiters[key]

    @staticmethod
    async def wait(ended: asyncio.Event, timeout: float) -> bool:
        """Until `ended` is set or `timeout` passes; whether it was set (then cleared)."""
        try:
            await asyncio.wait_for(ended.wait(), timeout)
        except TimeoutError:
            return False
        ended.clear()
        return True

    def _wake(self, key: str) -> None:
        with self._lock:
            waiting = list(self._waiters.get(key, ()))
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # RuntimeError: that loop is closed
                loop.call_soon_threadsafe(event.set)

    def _listen_once(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            self._listener = threading.Thread(
                target=self._listen_forever, name="tzzr-notify", daemon=True
            )
        self._listener.start()

    def _listen_forever(self) -> None:
        while not self.closed.is_set():
            try:
                self._listen()
            except Exception as exc:
                if self.closed.is_set():
                    return
                log.warning("listening for run ends failed (%s); polling meanwhile", exc)
                self.closed.wait(RECONNECT_SECONDS)

    def close(self) -> None:
        self.closed.set()

    def _send(self, key: str) -> None:
        raise NotImplementedError

    def _listen(self) -> None:
        raise NotImplementedError


class SocketNotifier(Notifier):
    """One machine: UNIX datagram sockets in a directory only the owner can enter."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self._sender: socket.socket | None = None
        self._path: Path | None = None

    def _send(self, key: str) -> None:
        if not self.directory.is_dir():
            return  # no server has listened here yet
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        data = key.encode()[:MAX_KEY_BYTES]
        for entry in os.scandir(self.directory):
            if not entry.name.endswith(".sock"):
                continue
            try:
                self._sender.sendto(data, entry.path)
            except ConnectionRefusedError:  # its server is gone
                Path(entry.path).unlink(missing_ok=True)
            except (BlockingIOError, FileNotFoundError):
                pass  # a busy or leaving server: it reads the database anyway

    def _listen(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}.sock"
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            log.warning(
                "%s is too long a path for a UNIX socket: ?wait= reads the run every %g s",
                path,
                FALLBACK_SECONDS,
            )
            self.closed.wait()
            return
        path.unlink(missing_ok=True)  # left by an earlier process with this pid
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(path))
            self._path = path
            sock.settimeout(RECONNECT_SECONDS)
            while not self.closed.is_set():
                try:
                    data = sock.recv(MAX_KEY_BYTES)
                except TimeoutError:
                    continue
                self._wake(data.decode(errors="replace"))

    def close(self) -> None:
        super().close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        if self._sender is not None:
            self._sender.close()


class RedisNotifier(Notifier):
    """Many machines: Redis PUBLISH / SUBSCRIBE on one channel per deployment."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: Any = None

    def _send(self, key: str) -> None:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url, socket_timeout=5)
        self._client.publish(self.channel, key)

    def _listen(self) -> None:
        import redis

        client: Any = redis.Redis.from_url(self.url, socket_timeout=RECONNECT_SECONDS * 5)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self.channel)
            while not self.closed.is_set():
                message = pubsub.get_message(timeout=RECONNECT_SECONDS)
                if message is not None and message.get("type") == "message":
                    data = message["data"]
                    self._wake(data.decode() if isinstance(data, bytes) else str(data))
            pubsub.close()
        finally:
            client.close()

    def close(self) -> None:
        super().close()
        if self._client is not None:
            self._client.close()


_made: dict[tuple[int, str], Notifier] = {}
_made_lock = threading.Lock()


def for_settings(settings: Settings) -> Notifier:
    """This process's notifier for the deployment `settings` describe (one per process:
    a forked worker makes its own)."""
    redis = settings.queue_url.startswith(("redis://", "rediss://", "unix://"))
    where = f"{settings.queue_url}#{settings.queue_name}" if redis else str(settings.home)
    key = (os.getpid(), where)
    with _made_lock:
        found = _made.get(key)
        if found is None:
            found = (
                RedisNotifier(settings.queue_url, f"{settings.queue_name}:ended")
                if redis
                else SocketNotifier(settings.home / "notify")
            )
            _made[key] = found
    return found


def run_ended(settings: Settings, h_instancia: str, run_id: str) -> None:
    """What the executor calls once a run's end is committed."""
    for_settings(settings).notify(h_instancia, run_id)


@atexit.register
def _close_all() -> None:
    with _made_lock:
        for key, notifier in list(_made.items()):
            if key[0] == os.getpid():
                notifier.close()
