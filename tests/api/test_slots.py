"""Slots (tzzr.api.slots) bound `/grace/runsync`: a full server answers 429 at once, a slow cell 503 at the
timeout, and a timed-out call keeps its slot until its thread ends."""

import asyncio
import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cells.test_ocr import render
from tests.conftest import Live, make_settings, running
from tzzr.api.slots import Slots
from tzzr.cells.base import CellContext, CellFailed, Payload
from tzzr.cells.ocr import OcrCell
from tzzr.errors import Busy, TooManyRequests


def _echo(sleep: float = 0) -> dict[str, Any]:
    return {
        "input": {
            "contract_version": "2.1",
            "routing": {"module": "TEST_ECHO"},
            "payload": {
                "type": "bytes",
                "encoding": "base64",
                "content": base64.b64encode(b"hi").decode(),
            },
            "params": {"sleepS": sleep},
        }
    }


def _post(live: Live, body: dict[str, Any]) -> httpx.Response:
    with live.client() as client:
        return client.post("/grace/runsync", json=body)


def _until_free(live: Live, timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = _post(live, _echo())
        if answer.status_code != 429 or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_a_flood_gets_429_at_once_and_the_slots_free_again(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", runsync_concurrency=2)
    with running(settings) as live, ThreadPoolExecutor(2) as pool:
        slow = [pool.submit(_post, live, _echo(sleep=3)) for _ in range(2)]
        time.sleep(0.5)  # both are in their slots
        started = time.monotonic()
        refused = _post(live, _echo())
        assert refused.status_code == 429, refused.text
        assert time.monotonic() - started < 2.5  # refused at once, not queued
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and "/grace/run" in error["message"]
        assert [f.result().status_code for f in slow] == [200, 200]
        assert [f.result().json()["status"] for f in slow] == ["COMPLETED", "COMPLETED"]
        assert _post(live, _echo()).status_code == 200


def test_past_the_timeout_503_and_the_slot_stays_taken_until_the_cell_ends(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "home", runsync_concurrency=1, runsync_timeout_seconds=0.5)
    with running(settings) as live:
        started = time.monotonic()
        late = _post(live, _echo(sleep=3))
        assert late.status_code == 503, late.text
        assert time.monotonic() - started < 2.5  # answered at the timeout, not at the end
        assert int(late.headers["retry-after"]) >= 1
        error = late.json()["error"]
        assert error["code"] == "busy" and "POST /grace/run" in error["message"]
        # the cell still sleeps in its thread: its slot is not given to anyone else
        assert _post(live, _echo()).status_code == 429
        free = _until_free(live)
        assert free.status_code == 200 and free.json()["status"] == "COMPLETED"
        assert time.monotonic() - started >= 2.5


@pytest.mark.parametrize("kind", ["image", "pdf"])
def test_ocr_stops_once_its_caller_stopped_waiting(kind: str) -> None:
    image = render(["TOTAL 12,50"], "PDF" if kind == "pdf" else "PNG")
    context = CellContext("r", "es", deadline=time.monotonic() - 1)
    with pytest.raises(CellFailed, match="stopped waiting"):
        OcrCell().run(context, Payload(kind, image, None))
    done = OcrCell().run(
        CellContext("r", "es", deadline=time.monotonic() + 60), Payload(kind, image)
    )
    assert "TOTAL" in done.result["text"]


def test_a_full_bound_refuses_at_once_and_a_late_call_keeps_its_slot() -> None:
    slots = Slots(1, 0.2, "bounded")
    release = threading.Event()
    deadlines: list[float] = []

    def slow(deadline: float) -> str:
        deadlines.append(deadline)
        release.wait(10)
        return "late"

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(Busy, match=r"did not finish within 0\.2 s") as busy:
            await slots.run(slow)
        assert busy.value.retry_after == 1
        assert started + 0.2 <= deadlines[0] <= time.monotonic()
        assert slots.busy == 1  # the thread still runs: its slot stays taken
        with pytest.raises(TooManyRequests, match="all 1 slots of bounded are busy"):
            await slots.run(lambda deadline: "never")
        release.set()
        deadline = time.monotonic() + 10
        while slots.busy and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert slots.busy == 0
        assert await slots.run(lambda deadline: "quick") == "quick"

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        slots.close()


def test_retry_after_follows_the_typical_duration_within_the_timeout() -> None:
    slots = Slots(2, 30, "typical")
    try:
        assert slots.retry_after() == 1  # the starting guess: one second
        slots._typical = 12.3
        assert slots.retry_after() == 13
        slots._typical = 300.0
        assert slots.retry_after() == 30  # never past the timeout
    finally:
        slots.close()
