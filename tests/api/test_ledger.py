"""FELDMAN's HTTP surface."""

import hashlib

from tests.conftest import Live
from tests.ingest.conftest import multipart, unique_meta
from tzzr.ledger import hash_leaf, verify_consistency, verify_inclusion
from tzzr.ledger.checkpoint import open_note
from tzzr.ledger.receipt import verify


def test_consolidate_blocks_checkpoint_proofs(live: Live) -> None:
    with live.client() as client:
        made = [
            multipart(client, unique_meta(), ("a.txt", b"%d" % i, "text/plain")).json()
            for i in range(3)
        ]
        first = client.post("/consolidate").json()["block"]
        assert first["tree_size"] >= 3
        assert first["created_at"].endswith("Z")  # RFC 3339 with Z, like every timestamp
        assert client.post("/consolidate").json()["block"] is None  # nothing pending
        more = multipart(client, unique_meta(), ("b.txt", b"more", "text/plain")).json()
        second = client.post("/consolidate").json()["block"]
        assert second["prev_hash"] == first["block_hash"]

        keys = client.get("/ledger/key").json()
        verifiers = [k["verifier_key"] for k in keys["keys"]]
        note = client.get("/checkpoint")
        assert note.headers["content-type"].startswith("text/plain")
        checkpoint, _ = open_note(note.text, verifiers)
        assert checkpoint.size == second["tree_size"]
        assert checkpoint.origin == keys["origin"]

        proof = client.get(f"/proof/{made[1]['h_entrada']}").json()
        verify_inclusion(
            bytes.fromhex(proof["leaf_hash"]),
            proof["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(p) for p in proof["proof"]],
            checkpoint.root,
        )
        assert hash_leaf(proof["leaf"].encode()).hex() == proof["leaf_hash"]
        old = client.get(
            f"/proof/{made[1]['h_entrada']}", params={"tree_size": first["tree_size"]}
        ).json()
        assert old["root"] == first["tree_root"]

        consistency = client.get(
            "/consistency", params={"first": first["tree_size"], "second": second["tree_size"]}
        ).json()
        verify_consistency(
            first["tree_size"],
            second["tree_size"],
            [bytes.fromhex(p) for p in consistency["proof"]],
            bytes.fromhex(first["tree_root"]),
            bytes.fromhex(second["tree_root"]),
        )

        assert client.get(f"/bloque/{second['number']}").json() == second
        listed = client.get("/bloques", params={"limit": 1}).json()["blocks"]
        assert [b["number"] for b in listed] == [second["number"]]

        receipt = client.get(f"/receipt/{more['h_entrada']}").json()
        result = verify(
            receipt, trusted_keys=verifiers, file_sha256=hashlib.sha256(b"more").hexdigest()
        )
        assert result.file_matched == "b.txt"


def test_ledger_errors_are_clear(live: Live) -> None:
    read_key, _ = live.services.keys.create("deck", "read")
    with live.client(read_key) as reader:
        assert reader.post("/consolidate").status_code == 403
        assert reader.get("/bloque/999999").status_code == 404
        assert reader.get("/bloque/abc").status_code == 422
        assert reader.get("/consistency", params={"first": 0, "second": 1}).status_code == 422
        bad = reader.get("/consistency", params={"first": 1, "second": 999999999})
        assert bad.status_code == 422
        assert bad.json()["error"]["field"] == "tree_size"
    with live.client() as client:
        fresh = multipart(client, unique_meta(), ("p.txt", b"pending", "text/plain")).json()
        pending = client.get(f"/proof/{fresh['h_entrada']}")
        assert pending.status_code == 404
        assert "not sealed yet" in pending.json()["error"]["message"]
        client.post("/consolidate")
