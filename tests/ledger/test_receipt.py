"""Receipts verify offline, and every tampering is caught with a reason."""

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.feldman.test_log import ingest
from tzzr.feldman.receipts import build
from tzzr.ledger.receipt import ReceiptError, verify
from tzzr.services import Services


@pytest.fixture
def sealed(services: Services) -> tuple[Services, dict[str, Any]]:
    services.bootstrap()
    deck = services.instances.get("deck")
    with services.ingest.builder(deck) as builder:
        builder.set_metadata({"note": "receipt"})
        builder.new_file("photo.jpg", "image/jpeg").write(b"\xff\xd8 photo bytes")
        made = builder.finish().h_entrada
    ingest(services, 6)
    services.ledger.seal(deck)
    return services, build(services.ledger, services.entries.get(deck, made), deck)


def test_a_receipt_verifies_and_names_the_file(sealed: tuple[Services, dict[str, Any]]) -> None:
    services, receipt = sealed
    key = services.ledger.keys.public_keys(services.instances.get("deck"))[0].verifier_key
    result = verify(
        receipt, file_sha256=hashlib.sha256(b"\xff\xd8 photo bytes").hexdigest(), trusted_keys=[key]
    )
    assert result.pinned_key
    assert result.file_matched == "photo.jpg"
    assert (result.leaf_index, result.tree_size, result.block) == (0, 7, 1)


def _mutations(receipt: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    def changed(path: list[Any], value: Any) -> dict[str, Any]:
        copied = copy.deepcopy(receipt)
        target = copied
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return copied

    proof = receipt["inclusion_proof"]
    flipped = ("0" if proof[0][0] != "0" else "1") + proof[0][1:]
    leaf = json.loads(receipt["leaf"])
    other_leaf = json.dumps(
        {**leaf, "ts": "2020-01-01T00:00:00.000000Z"}, separators=(",", ":"), sort_keys=True
    )
    note = receipt["checkpoint"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    return {
        "metadata changed": (
            changed(["entry", "contenedor", "metadata", "note"], "x"),
            "hashes to",
        ),
        "address changed": (changed(["entry", "h_entrada"], "ab" * 32), "hashes to"),
        "leaf timestamp changed": (changed(["leaf"], other_leaf), "inclusion proof"),
        "leaf not canonical": (changed(["leaf"], json.dumps(leaf)), "canonical"),
        "proof hash flipped": (changed(["inclusion_proof", 0], flipped), "inclusion proof"),
        "proof truncated": (changed(["inclusion_proof"], proof[:-1]), "inclusion proof"),
        "wrong index": (changed(["leaf_index"], 1), "inclusion proof"),
        "wrong size": (changed(["tree_size"], 8), "checkpoint is for"),
        "checkpoint edited": (changed(["checkpoint"], "\n".join(lines)), "invalid"),
        "no format": (changed(["format"], "other"), "not a TZZR receipt"),
    }


def test_every_tampering_is_rejected_with_a_reason(sealed: tuple[Services, dict[str, Any]]) -> None:
    _, receipt = sealed
    verify(receipt)
    for name, (bad, reason) in _mutations(receipt).items():
        with pytest.raises(ReceiptError, match=reason):
            verify(bad)
            pytest.fail(f"{name} accepted")


def test_a_wrong_file_or_an_unpinned_signer_is_rejected(
    sealed: tuple[Services, dict[str, Any]],
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tzzr.ledger.checkpoint import public_bytes, verifier_key

    _, receipt = sealed
    with pytest.raises(ReceiptError, match="not part of this entry"):
        verify(receipt, file_sha256="00" * 32)
    stranger = verifier_key("tzzr/deck/x", public_bytes(Ed25519PrivateKey.generate()))
    with pytest.raises(ReceiptError, match="no signature on this note is by a known key"):
        verify(receipt, trusted_keys=[stranger])


def test_tzzr_verify_works_without_network_or_database(
    sealed: tuple[Services, dict[str, Any]], tmp_path: Path
) -> None:
    services, receipt = sealed
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 photo bytes")
    key = services.ledger.keys.public_keys(services.instances.get("deck"))[0].verifier_key
    env = {"TZZR_HOME": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    command = [
        sys.executable,
        "-m",
        "tzzr",
        "verify",
        str(path),
        "--file",
        str(photo),
        "--key",
        key,
    ]
    prefix = (
        ["unshare", "-n"]
        if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
        else []
    )
    ok = subprocess.run(prefix + command, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("VALID")
    assert not (tmp_path / "nowhere").exists()  # no data directory, no database
    bad = dict(receipt, leaf_index=3)
    path.write_text(json.dumps(bad))
    failed = subprocess.run(prefix + command, env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert "INVALID: inclusion proof" in failed.stderr


PURE_VERIFY = """
import json, sys
from tzzr.ledger.receipt import verify
result = verify(json.load(open(sys.argv[1])), trusted_keys=[sys.argv[2]])
assert result.leaf_index == 0, result
loaded = sorted(sys.modules)
print(json.dumps({"modules": len(loaded), "loaded": loaded}))
"""


def test_verifying_a_receipt_loads_no_database_code(
    sealed: tuple[Services, dict[str, Any]], tmp_path: Path
) -> None:
    services, receipt = sealed
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    key = services.ledger.keys.public_keys(services.instances.get("deck"))[0].verifier_key
    done = subprocess.run(
        [sys.executable, "-c", PURE_VERIFY, str(path), key],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)["loaded"]
    roots = {name.split(".")[0] for name in loaded}
    assert not roots & {"sqlalchemy", "pydantic", "pydantic_settings", "fastapi", "starlette"}
    assert not [n for n in loaded if n.startswith(("tzzr.db", "tzzr.blobs", "tzzr.feldman"))]
    assert {n for n in loaded if n.startswith("tzzr.")} <= {
        "tzzr.canonical",
        "tzzr.errors",
        "tzzr.ledger",
        "tzzr.ledger.checkpoint",
        "tzzr.ledger.device",
        "tzzr.ledger.hashing",
        "tzzr.ledger.proof",
        "tzzr.ledger.receipt",
        "tzzr.ledger.verify",
    }
