"""`?wait=` is woken by the run's end: the notifier's two backends across processes, and
a real server with a real worker on the SQLite queue and on Redis + PostgreSQL."""

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import need
from tests.runs.conftest import SHAPES, Shape, own_instance, submit
from tzzr.config import Settings
from tzzr.runs import notify

TELL = (
    "import sys; from tzzr.config import Settings; from tzzr.runs import notify; "
    "notify.run_ended(Settings(home=sys.argv[1], queue_url=sys.argv[2], "
    "queue_name=sys.argv[3]), sys.argv[4], sys.argv[5])"
)


def _settings(backend: str, home: Path) -> Settings:
    if backend == "redis":
        url = need("TZZR_TEST_REDIS_URL", "Redis")
        return Settings(home=home, queue_url=url, queue_name=f"t{uuid.uuid4().hex[:10]}")
    return Settings(home=home)


def _tell(settings: Settings, h_instancia: str, run_id: str) -> None:
    """A run's end, told by another process (as a worker does)."""
    where = [str(settings.home), settings.queue_url, settings.queue_name]
    subprocess.run(
        [sys.executable, "-c", TELL, *where, h_instancia, run_id],
        check=True,
        timeout=60,
    )


@pytest.mark.parametrize("backend", ["socket", "redis"])
def test_a_waiter_is_woken_by_another_process_and_only_for_its_run(
    tmp_path: Path, backend: str
) -> None:
    settings = _settings(backend, tmp_path / "home")
    notifier = notify.for_settings(settings)
    assert isinstance(
        notifier, notify.RedisNotifier if backend == "redis" else notify.SocketNotifier
    )

    async def scenario() -> tuple[bool, bool, float]:
        with notifier.watch("h1", "run-a") as ended:
            await asyncio.sleep(0.5)  # the listener is up (socket bound, channel joined)
            notifier.notify("h2", "run-a")  # another instance's run of that id
            other = await notifier.wait(ended, 1.0)
            started = time.monotonic()
            told = asyncio.create_task(asyncio.to_thread(_tell, settings, "h1", "run-a"))
            woken = await notifier.wait(ended, 30)
            await told
            return other, woken, time.monotonic() - started

    other, woken, took = asyncio.run(scenario())
    assert not other
    assert woken and took < 20  # the wait's own timeout was 30 s


def test_a_socket_left_by_a_dead_server_is_removed(tmp_path: Path) -> None:
    directory = tmp_path / "notify"
    directory.mkdir()
    stale = directory / "999999.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(stale))
    assert stale.exists()  # the file stays after its socket closed
    notifier = notify.SocketNotifier(directory)
    notifier.notify("h", "r")
    notifier.close()
    assert not stale.exists()


@pytest.fixture(scope="module", params=SHAPES)
def server(request: pytest.FixtureRequest, shared_shape: Callable[[str], Shape]) -> Shape:
    return own_instance(shared_shape(request.param), "runs-notify")


def test_wait_returns_when_the_run_ends(server: Shape, monkeypatch: pytest.MonkeyPatch) -> None:
    # No fallback read before the deadline: only the worker's notification can end the
    # wait early.
    monkeypatch.setattr(notify, "FALLBACK_SECONDS", 120.0)
    with server.client() as client:
        warm = submit(client, b"warm")  # the worker has started and taken a first run
        assert client.get(f"/api/runs/{warm}", params={"wait": 60}).json()["status"] == "done"
        for n in range(3):
            run_id = submit(client, f"wait {n}".encode(), params={"sleepS": 0.5})
            started = time.monotonic()
            run = client.get(f"/api/runs/{run_id}", params={"wait": 30}, timeout=60).json()
            took = time.monotonic() - started
            assert run["status"] == "done", run
            assert took < 20, took  # well before the 30 s deadline
