from datetime import UTC, datetime, timedelta

from tests.feldman.test_log import ingest
from tzzr.feldman.sealing import seal_due
from tzzr.ledger.blocks import Block
from tzzr.services import Services


def test_blocks_are_sealed_when_the_interval_has_passed(services: Services) -> None:
    services.bootstrap()
    deck = services.instances.get("deck")
    interval = timedelta(seconds=services.settings.block_interval)
    start = deck.created_at

    def check(now: datetime) -> list[Block]:
        return seal_due(services.instances.list(), services.ledger, interval, now)

    assert check(start + interval) == []  # nothing pending: no block
    ingest(services, 2)
    assert check(start + interval / 2) == []  # not yet due
    first = check(start + interval)
    assert [b.tree_size for b in first] == [2]
    ingest(services, 1, start=2)
    assert check(datetime.now(UTC)) == []  # the last block is fresh
    # Downtime: the next block fell due long ago, it is sealed on the first check.
    later = check(datetime.now(UTC) + 3 * interval)
    assert [b.tree_size for b in later] == [3]
