"""The run queue, on huey: SQLite (a file beside the database: the embedded default)
or Redis (to spread work over many machines). A message carries only a run id; the
runs table is the truth, so a lost or repeated message never loses or repeats work."""

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from huey import Huey
from sqlalchemy.engine import make_url

from tzzr.errors import ConfigError, Unavailable

QUEUES = ("cpu", "gpu")
TASK = "tzzr.run"


def run_message(h_instancia: str, run_id: str) -> str:
    """A run's message: run ids are unique within an instance only."""
    return f"{h_instancia}/{run_id}"


def parse_run_message(message: str) -> tuple[str | None, str]:
    """(h_instancia, run id); no instance in a message queued before 0.2."""
    h_instancia, _, run_id = message.rpartition("/")
    return h_instancia or None, run_id


Handler = Callable[[str], object]


def _noop(run_id: str) -> object:  # replaced by the worker's handler
    raise RuntimeError(f"no handler for run {run_id}: this process does not execute runs")


class RunQueue:
    """One huey per queue name over the same backend."""

    def __init__(self, url: str, prefix: str = "tzzr", names: Iterable[str] = QUEUES) -> None:
        """Checks the URL now; connects (and imports huey: ~35 MB) on first use, so a
        server that never queues anything never pays for it."""
        self.url = url
        self._prefix = prefix
        self._names = list(names)
        self._handler: Handler = _noop
        self._lock = threading.Lock()
        self._hueys: dict[str, Huey] = {}
        self._tasks: dict[str, Any] = {}
        for name in self._names:
            if name not in QUEUES:
                raise ConfigError(f"unknown queue {name!r}; queues: {', '.join(QUEUES)}")
        self._sqlite = make_url(url) if url.startswith("sqlite") else None
        if self._sqlite is not None and not self._sqlite.database:
            raise ConfigError("the SQLite queue URL needs a file: sqlite:///path/queue.db")
        if self._sqlite is None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"unsupported queue URL {url!r}: use sqlite:///path/queue.db or redis://host:port/db"
            )
        self.blocking = self._sqlite is None

    def _build(self) -> None:
        from huey import RedisHuey, SqliteHuey

        for name in self._names:
            huey: Huey
            if self._sqlite is not None and self._sqlite.database:
                Path(self._sqlite.database).parent.mkdir(parents=True, exist_ok=True)
                # fsync off: a message lost to a power loss is queued again by the
                # reaper (the runs and executions tables are the truth)
                huey = SqliteHuey(
                    f"{self._prefix}_{name}",
                    filename=self._sqlite.database,
                    results=False,
                    timeout=30,
                    fsync=False,
                )
            else:
                huey = RedisHuey(
                    f"{self._prefix}_{name}",
                    url=self.url,
                    results=False,
                    blocking=True,
                    read_timeout=0.2,
                )
            self._tasks[name] = huey.task(name=TASK)(self._dispatch)
            self._hueys[name] = huey

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def handle_with(self, handler: Handler) -> None:
        self._handler = handler

    def _dispatch(self, run_id: str) -> None:
        self._handler(run_id)

    def _huey(self, name: str) -> "Huey":
        if not self._hueys:
            with self._lock:
                if not self._hueys:
                    self._build()
        found = self._hueys.get(name)
        if found is None:
            raise ConfigError(f"queue {name!r} is not served here; queues: {', '.join(self.names)}")
        return found

    def enqueue(self, name: str, run_id: str, delay: float = 0) -> None:
        self._huey(name)
        task = self._tasks[name]
        try:
            if delay > 0:
                task.schedule(args=(run_id,), delay=delay)
            else:
                task(run_id)
        except Exception as exc:
            raise Unavailable(f"the run queue ({self.describe()}) is unreachable: {exc}") from exc

    def take(self, name: str) -> Any:
        """The next message of queue `name`, or None (Redis blocks briefly)."""
        return self._huey(name).dequeue()

    def take_any(self, names: list[str], wait: bool = True) -> tuple[str, Any] | None:
        """The next message of any of `names` (queue name, message), or None. On Redis,
        one BRPOP over all the queues' keys blocks briefly (unless `wait` is false)."""
        if self.blocking:
            storages = {self._huey(n).storage.queue_key: n for n in names}
            conn = self._huey(names[0]).storage.conn
            if wait:
                popped = conn.brpop(list(storages), timeout=0.2)
            else:
                popped = next(
                    ((key, data) for key in storages if (data := conn.rpop(key)) is not None),
                    None,
                )
            if not popped:
                return None
            key, data = popped
            name = storages[key.decode() if isinstance(key, bytes) else key]
            return name, self._huey(name).deserialize_task(data)
        for name in names:
            message = self._huey(name).dequeue()
            if message is not None:
                return name, message
        return None

    @staticmethod
    def payload(message: Any) -> str:
        """What a message carries: a run id, or `x:` and an execution id."""
        return str(message.args[0])

    def execute(self, name: str, message: Any) -> None:
        self._huey(name).execute(message)

    def defer(self, name: str, message: Any) -> bool:
        """A message whose time has not come (a retry in its back-off) goes back to the
        queue's schedule, as huey's own `execute` does, until `promote_due` moves it;
        True when it did."""
        huey = self._huey(name)
        if huey.ready_to_run(message):
            return False
        huey.add_schedule(message)
        return True

    def promote_due(self) -> int:
        """Move scheduled messages (retries with back-off) whose time has come."""
        moved = 0
        for huey in (self._huey(name) for name in self._names):
            for task in huey.read_schedule():
                huey.enqueue(task)
                moved += 1
        return moved

    def depth(self) -> dict[str, int]:
        return {name: int(self._huey(name).pending_count()) for name in self._names}

    def describe(self) -> str:
        return (
            make_url(self.url).render_as_string(hide_password=True)
            if "://" in self.url
            else self.url
        )

    def close(self) -> None:
        for huey in self._hueys.values():
            storage = huey.storage
            close = getattr(storage, "close", None)
            if close is not None:
                close()
