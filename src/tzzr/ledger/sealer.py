"""Automatic sealing: every `TZZR_BLOCK_INTERVAL` seconds, each instance with pending
leaves gets a block; an empty interval makes none. It runs inside `tzzr serve` (it
moves onto the task queue's scheduler when that lands) and catches up after downtime:
a block that fell due while the server was down is sealed on start."""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from starlette.concurrency import run_in_threadpool

from tzzr.ledger.blocks import Block
from tzzr.services import Services

log = logging.getLogger("tzzr.ledger")


def seal_due(services: Services, now: datetime) -> list[Block]:
    interval = timedelta(seconds=services.settings.block_interval)
    sealed = []
    for instance in services.instances.list():
        last = services.ledger.latest(instance)
        since = last.created_at if last else instance.created_at
        if now - since >= interval and services.ledger.pending(instance):
            block = services.ledger.seal(instance)
            if block is not None:
                log.info(
                    "sealed block %d of %s: %d leaves, tree size %d",
                    block.number,
                    instance.name,
                    block.last_index - block.first_index + 1,
                    block.tree_size,
                )
                sealed.append(block)
    return sealed


async def run(
    services: Services, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    period = min(60.0, float(services.settings.block_interval))
    while True:
        try:
            await run_in_threadpool(seal_due, services, clock())
        except Exception:
            log.exception("automatic sealing failed; retrying in %.0f s", period)
        await asyncio.sleep(period)
