"""Signing keys: made on first use, rotated with their public halves kept."""

from tests.feldman.test_log import ingest
from tzzr.ledger.checkpoint import open_note
from tzzr.services import Services


def test_rotation_keeps_old_checkpoints_verifiable(ledger_services: Services) -> None:
    services = ledger_services
    deck = services.instances.get("deck")
    ingest(services, 2)
    first = services.ledger.seal(deck)
    new_id = services.ledger.keys.rotate(deck)
    ingest(services, 2, start=2)
    second = services.ledger.seal(deck)
    assert first is not None and second is not None
    assert second.key_id == new_id != first.key_id
    keys = services.ledger.keys.public_keys(deck)
    assert [k.retired_at is None for k in keys] == [False, True]
    verifiers = [k.verifier_key for k in keys]
    for block in (first, second):
        open_note(block.checkpoint, verifiers)
