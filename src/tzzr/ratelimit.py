"""Rate limits on authentication, with the `limits` library: failed attempts per client
address (TZZR_AUTH_FAIL_LIMIT) and requests per key (TZZR_KEY_RATE_LIMIT). Counters live
in this process's memory, or in Redis (TZZR_RATE_LIMIT_URL, by default the Redis queue)
so that every server of a scale-out deployment counts together.

Past the failure limit an address gets 429 for every *failed* attempt, while a correct
key still passes: people behind the same NAT as a guesser are not locked out, and a
256-bit secret is not guessed online anyway. What the limit bounds is the cost and the
noise: failures are coalesced into one `auth_failure` event per address and window,
counted, instead of a row per request."""

import ipaddress
import logging
import math
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from sqlalchemy import Engine, bindparam, insert, update
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import SentinelEvent
from tzzr.errors import TooManyRequests, Unauthorized
from tzzr.keys import Keys, Operator, Principal
from tzzr.times import rfc3339

log = logging.getLogger("tzzr.ratelimit")
KEY_ID = re.compile(r"[0-9a-f]{12}")  # keys.py: secrets.token_hex(6)
WINDOW_SECONDS = 60.0  # the events' window when the failure limit is off
FLUSH_SECONDS = 1.0  # a window's count is written at most this often
MAX_ADDRESSES = 10_000  # open windows; beyond, failures share one "*" window
MAX_KEY_IDS = 5  # well-formed key ids kept per window, as clues


def client_address(host: str | None) -> str:
    """What the failure limit counts by: an IPv6 address by its /64 (one subscriber
    usually holds a whole /64), anything else as it is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def key_id_of(authorization: str) -> str | None:
    """The key id a header claims, only when it has the format keys are made with: an
    event's subject is never text an attacker chose."""
    parts = authorization.partition(" ")[2].strip().split("_")
    if len(parts) >= 3 and parts[0] == "tzzr" and KEY_ID.fullmatch(parts[1]):
        return parts[1]
    return None


def _retry_after(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))


@dataclass
class _Window:
    address: str
    started: datetime
    ends: float  # epoch seconds
    reasons: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    key_ids: list[str] = field(default_factory=list)
    row_id: int | None = None
    written: int = 0  # the count its row holds
    lost: bool = False  # its row could not be written: nothing to update

    @property
    def dirty(self) -> bool:
        return not self.lost and self.count != self.written

    @property
    def subject(self) -> str | None:
        return self.key_ids[0] if self.key_ids else None

    @property
    def count(self) -> int:
        return sum(self.reasons.values())

    def data(self, limit: str) -> dict[str, Any]:
        return {
            "reason": next(iter(self.reasons), None),
            "reasons": dict(self.reasons),
            "count": self.count,
            "refused": self.refused,
            "address": self.address,
            "since": rfc3339(self.started),
            "limit": limit,
            "keyIds": list(self.key_ids),
        }


class FailureEvents:
    """One `auth_failure` event per (client address, window) and server process: written
    at the window's first failure, its count brought up to date at most every
    FLUSH_SECONDS. A burst costs one insert and about one update a second."""

    def __init__(self, engine: Engine, limit: str) -> None:
        self._engine = engine
        self._limit = limit
        self._lock = threading.Lock()
        self._open: dict[str, _Window] = {}
        self._closing: list[_Window] = []  # ended, their last count not yet written
        self._timer: threading.Timer | None = None

    def record(
        self, address: str, reason: str, key_id: str | None, ends: float, refused: bool
    ) -> None:
        now = time.time()
        with self._lock:
            if address not in self._open and len(self._open) >= MAX_ADDRESSES:
                self._retire(now)
                if len(self._open) >= MAX_ADDRESSES:
                    address = "*"  # many addresses at once: one window for the rest
            window = self._open.get(address)
            first = window is None or window.ends <= now
            if window is None or first:
                if window is not None and window.dirty:
                    self._closing.append(window)
                window = self._open[address] = _Window(address, datetime.now(UTC), ends)
            window.reasons[reason] += 1
            window.refused += refused
            clues = window.key_ids
            if key_id is not None and key_id not in clues and len(clues) < MAX_KEY_IDS:
                clues.append(key_id)
            data = window.data(self._limit)
        if first:
            self._insert(window, data)
        else:
            self._flush_soon()

    def _insert(self, window: _Window, data: dict[str, Any]) -> None:
        try:
            with write_transaction(self._engine, redoable=True) as conn:
                row_id = conn.execute(
                    insert(SentinelEvent)
                    .values(
                        ts=window.started,
                        h_instancia=None,
                        kind="auth_failure",
                        severity="warning",
                        subject=window.subject,
                        data=data,
                    )
                    .returning(SentinelEvent.id)
                ).scalar_one()
        except Exception:
            log.exception("recording a failed authentication failed")
            with self._lock:  # the next failure opens the window again
                window.lost = True
                if self._open.get(window.address) is window:
                    del self._open[window.address]
            return
        with self._lock:
            window.row_id = row_id
            window.written = data["count"]
            dirty = window.dirty
        if dirty:
            self._flush_soon()

    def _flush_soon(self) -> None:
        with self._lock:
            if self._timer is not None and self._timer.is_alive():
                return
            self._timer = threading.Timer(FLUSH_SECONDS, self._flush_quietly)
            self._timer.daemon = True
            self._timer.start()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:
            log.exception("writing the counts of failed authentications failed")

    def flush(self) -> int:
        """Write every window's count now; how many rows changed."""
        with self._lock:
            todo = [
                (window, window.count, window.data(self._limit))
                for window in [*self._open.values(), *self._closing]
                if window.row_id is not None and window.dirty
            ]
        if todo:
            with write_transaction(self._engine, redoable=True) as conn:
                conn.execute(
                    update(SentinelEvent)
                    .where(SentinelEvent.id == bindparam("rid"))
                    .values(data=bindparam("d"), subject=bindparam("s")),
                    [
                        {"rid": window.row_id, "d": data, "s": window.subject}
                        for window, _, data in todo
                    ],
                )
        with self._lock:
            for window, count, _ in todo:
                window.written = max(window.written, count)
            self._retire(time.time())
        return len(todo)

    def _retire(self, now: float) -> None:
        """Drop ended windows whose count is written; keep the others for the flush."""
        for address, window in list(self._open.items()):
            if window.ends <= now:
                del self._open[address]
                if window.dirty:
                    self._closing.append(window)
        self._closing = [w for w in self._closing if w.dirty]


class RateLimits:
    """Built once per server from its settings; `authenticate` is the one entry."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        url = settings.rate_limit_url
        options: dict[str, Any] = {"wrap_exceptions": True}
        if url.startswith("unix://"):
            url = "redis+unix://" + url.removeprefix("unix://")
        if not url.startswith("memory://"):
            options["key_prefix"] = f"{settings.queue_name}:limits"
        storage = storage_from_string(url, **options)
        self.inline = url.startswith("memory://")  # no I/O: fine on the event loop
        self._failures = FixedWindowRateLimiter(storage)
        self._requests = SlidingWindowCounterRateLimiter(storage)
        self._fail_limit: RateLimitItem | None = (
            parse(settings.auth_fail_limit) if settings.auth_fail_limit else None
        )
        self._key_limit: RateLimitItem | None = (
            parse(settings.key_rate_limit) if settings.key_rate_limit else None
        )
        self.events = FailureEvents(engine, settings.auth_fail_limit or "off")

    def authenticate(
        self, keys: Keys, authorization: str | None, host: str | None
    ) -> Principal | Operator:
        """`keys.authenticate`, with a failure counted (429 past the limit) and a
        success held to the key's request rate. Blocking: call it in a thread."""
        try:
            principal = keys.authenticate(authorization)
        except Unauthorized as exc:
            if authorization:  # no key at all costs nothing and proves nothing
                self.failed(authorization, client_address(host), exc)
            raise
        self.check_key(principal.key_id)
        return principal

    def failed(self, authorization: str, address: str, exc: Unauthorized) -> None:
        ends = time.time() + WINDOW_SECONDS
        refused = False
        if self._fail_limit is not None:
            limit = self._fail_limit
            try:
                refused = not self._failures.hit(limit, "authfail", address)
                ends = self._failures.get_window_stats(limit, "authfail", address).reset_time
            except StorageError as error:  # the counters' store is down: count nothing
                log.warning("rate limit store unreachable: %s", error)
        self.events.record(address, exc.message, key_id_of(authorization), ends, refused)
        if refused:
            raise TooManyRequests(
                f"too many failed authentications from {address}; try again in "
                f"{_retry_after(ends)} s with a valid key",
                retry_after=_retry_after(ends),
            ) from exc

    def check_key(self, key_id: str) -> None:
        """429 once the key has made TZZR_KEY_RATE_LIMIT requests."""
        limit = self._key_limit
        if limit is None:
            return
        try:
            if self._requests.hit(limit, "key", key_id):
                return
            reset = self._requests.get_window_stats(limit, "key", key_id).reset_time
        except StorageError as error:  # the counters' store is down: let it in
            log.warning("rate limit store unreachable: %s", error)
            return
        raise TooManyRequests(
            f"this key made more than {limit} requests; slow down "
            f"(TZZR_KEY_RATE_LIMIT), try again in {_retry_after(reset)} s",
            retry_after=_retry_after(reset),
        )


def of(request: Request) -> RateLimits:
    """The app's limits, made on first use (no await between the look and the set)."""
    found: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if found is None:
        services = request.app.state.services
        found = request.app.state.rate_limits = RateLimits(services.settings, services.engine)
    return found


async def authenticate(request: Request) -> Principal | Operator:
    """The caller's principal: the key cache first, then the database, under the limits."""
    keys: Keys = request.app.state.services.keys
    limits = of(request)
    header = request.headers.get("authorization")
    host = request.client.host if request.client else None
    principal = keys.cached(header)
    if principal is None:
        return await run_in_threadpool(limits.authenticate, keys, header, host)
    if limits.inline:
        limits.check_key(principal.key_id)
    else:
        await run_in_threadpool(limits.check_key, principal.key_id)
    return principal
