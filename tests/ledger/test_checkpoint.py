"""Checkpoints as C2SP signed notes."""

from tzzr.ledger.checkpoint import parse_verifier_key, verifier_key


def test_verifier_keys_with_plus_signs_in_their_base64_parse() -> None:
    public = bytes.fromhex("fbfe" * 16)  # encodes with '+' and '/'
    vkey = verifier_key("tzzr/deck/x", public)
    assert "+" in vkey.split("+", 2)[2]
    assert parse_verifier_key(vkey)[2] == public
