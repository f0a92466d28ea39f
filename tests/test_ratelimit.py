"""Rate limits on a real server: failed authentication per client address (coalesced
into counted events), requests per key, and the Redis-shared counters of scale-out."""

import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import make_settings, need, running
from tzzr.config import Settings
from tzzr.db.models import SentinelEvent
from tzzr.errors import TooManyRequests, Unauthorized
from tzzr.ratelimit import RateLimits, client_address, key_id_of
from tzzr.services import Services


def _failures(services: Services) -> list[Any]:
    with services.engine.connect() as conn:
        return list(
            conn.execute(select(SentinelEvent).where(SentinelEvent.kind == "auth_failure")).all()
        )


def _settled(services: Services, count: int, timeout: float = 10) -> list[Any]:
    """The auth_failure rows once their counts add up (a window's count is written
    within a second of the last failure)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _failures(services)
        if sum(row.data["count"] for row in rows) == count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _guess() -> str:
    return f"tzzr_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def test_a_burst_of_bad_keys_is_refused_and_recorded_as_one_counted_event(
    tmp_path: Path,
) -> None:
    with running(make_settings(tmp_path / "home")) as live:  # the default: 20/minute
        statuses = []
        retry_after = []
        with httpx.Client(base_url=live.url, timeout=30) as client:
            for n in range(300):
                key = _guess() if n % 2 else "tzzr_<script>x</script>_" + "a" * 40
                response = client.get("/entries", headers={"Authorization": f"Bearer {key}"})
                statuses.append(response.status_code)
                if response.status_code == 429:
                    retry_after.append(int(response.headers["retry-after"]))
                    assert response.json()["error"]["code"] == "rate_limited"
            assert statuses[:20] == [401] * 20
            assert statuses[20:] == [429] * 280
            assert all(0 < seconds <= 60 for seconds in retry_after)

            # The blocked address still gets in with a correct key (a colleague behind
            # the same NAT), and another address is not blocked at all.
            good = client.get("/entries", headers={"Authorization": f"Bearer {live.admin_key}"})
            assert good.status_code == 200
            elsewhere = client.get(
                "/entries",
                headers={"Authorization": f"Bearer {_guess()}", "X-Forwarded-For": "203.0.113.9"},
            )
            assert elsewhere.status_code == 401
            # No key at all costs nothing and is not counted.
            assert client.get("/entries").status_code == 401

        rows = _settled(live.services, 301)
        assert len(rows) == 2, [row.data for row in rows]
        burst = next(row for row in rows if row.data["address"] == "127.0.0.1")
        assert burst.data["count"] == 300 and burst.data["refused"] == 280
        assert burst.data["reasons"] == {"invalid API key": 300}
        assert burst.data["limit"] == "20/minute"
        # The subject is a key id of the format keys have, never the attacker's text.
        assert burst.subject is not None and len(burst.subject) == 12
        assert all("<" not in clue for clue in burst.data["keyIds"])
        assert len(burst.data["keyIds"]) <= 5
        other = next(row for row in rows if row.data["address"] == "203.0.113.9")
        assert other.data["count"] == 1 and other.data["refused"] == 0


def test_a_key_over_its_request_rate_gets_429_and_others_do_not(tmp_path: Path) -> None:
    with running(make_settings(tmp_path / "home", key_rate_limit="5/minute")) as live:
        other, _ = live.services.keys.create("deck", "read")
        with live.client() as client:
            answers = [client.get("/entries") for _ in range(8)]
            assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
            assert 0 < int(answers[-1].headers["retry-after"]) <= 60
            assert "TZZR_KEY_RATE_LIMIT" in answers[-1].json()["error"]["message"]
        with live.client(other) as client:
            assert client.get("/entries").status_code == 200


def test_client_addresses_and_key_ids() -> None:
    assert client_address("2001:db8:1:2:3:4:5:6") == client_address("2001:db8:1:2:ffff::1")
    assert client_address("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1") != client_address("2001:db8:1:2::1")
    assert client_address("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_address("192.0.2.7") == "192.0.2.7"
    assert client_address(None) == "unknown"
    assert key_id_of("Bearer tzzr_0123456789ab_secret") == "0123456789ab"
    assert key_id_of("Bearer tzzr_DROP TABLE_x") is None
    assert key_id_of("Bearer tzzr_0123456789abc_secret") is None
    assert key_id_of("Basic dXNlcjpwYXNz") is None


def test_redis_counters_are_shared_by_every_server(tmp_path: Path) -> None:
    """Two servers (two RateLimits on one Redis) count one address's failures together."""
    redis_url = need("TZZR_TEST_REDIS_URL", "Redis")
    settings = Settings(
        home=tmp_path / "home",
        queue_url=redis_url,
        queue_name=f"t{uuid.uuid4().hex[:10]}",
        auth_fail_limit="6/minute",
    )
    assert settings.rate_limit_url == redis_url  # by default, the Redis queue's
    services = Services.build(settings)
    try:
        servers = [RateLimits(settings, services.engine) for _ in range(2)]
        outcomes = []
        for n in range(10):
            try:
                servers[n % 2].authenticate(services.keys, f"Bearer {_guess()}", "198.51.100.4")
            except TooManyRequests as exc:
                assert exc.retry_after is not None and 0 < exc.retry_after <= 60
                outcomes.append(429)
            except Unauthorized:
                outcomes.append(401)
        assert outcomes == [401] * 6 + [429] * 4
        for server in servers:
            server.events.flush()
        rows = _failures(services)
        # one event per server process and window, with what that process saw
        assert len(rows) == 2 and sum(row.data["count"] for row in rows) == 10
    finally:
        services.close()
