"""Reading entries and blobs, scoped to the key's instance."""

import hashlib
import os
import uuid
from datetime import UTC, datetime, timedelta

from tests.conftest import Live
from tests.ingest.conftest import multipart, unique_meta


def test_pagination_visits_every_entry_once_newest_first(live: Live) -> None:
    tag = uuid.uuid4().hex
    key, _ = live.services.keys.create("corp", "admin")
    with live.client(key) as client:
        made = []
        for i in range(7):
            response = client.post(
                "/ingest", json={"metadata": unique_meta(company_id="ES1", cost_center=tag, i=i)}
            )
            made.append(response.json()["h_entrada"])
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            page = client.get("/entries", params=params).json()
            seen += [e["h_entrada"] for e in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen[:7] == list(reversed(made))
    assert len(seen) == len(set(seen))


def test_filters(live: Live) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    with live.client() as client:
        audio = multipart(client, unique_meta(), ("note.ogg", os.urandom(100), "audio/ogg")).json()
        image = multipart(client, unique_meta(), ("r.png", os.urandom(100), "image/png")).json()
        by_type = client.get(
            "/entries", params={"media_type": "audio/ogg", "since": since.isoformat()}
        )
        assert [e["h_entrada"] for e in by_type.json()["entries"]] == [audio["h_entrada"]]
        wildcard = client.get(
            "/entries", params={"media_type": "image/*", "since": since.isoformat()}
        )
        assert image["h_entrada"] in [e["h_entrada"] for e in wildcard.json()["entries"]]
        assert audio["h_entrada"] not in [e["h_entrada"] for e in wildcard.json()["entries"]]
        future = client.get(
            "/entries", params={"since": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
        )
        assert future.json()["entries"] == []
        until = client.get("/entries", params={"until": since.isoformat(), "limit": 500})
        assert audio["h_entrada"] not in [e["h_entrada"] for e in until.json()["entries"]]
        states = client.get("/entries", params={"state": "received", "since": since.isoformat()})
        assert len(states.json()["entries"]) == 2
        assert (
            client.get("/entries", params={"state": "sealed", "since": since.isoformat()}).json()[
                "entries"
            ]
            == []
        )
        assert client.get("/entries", params={"cursor": "garbage"}).status_code == 422
        assert client.get("/entries", params={"since": "yesterday"}).status_code == 422


def test_entries_and_blobs_do_not_cross_instances(live: Live) -> None:
    data = os.urandom(1000)
    with live.client() as deck:
        made = multipart(deck, unique_meta(), ("d.bin", data, "application/octet-stream")).json()
    corp_key, _ = live.services.keys.create("corp", "read")
    with live.client(corp_key) as corp:
        assert corp.get(f"/entries/{made['h_entrada']}").status_code == 404
        assert corp.get(f"/blobs/{hashlib.sha256(data).hexdigest()}").status_code == 404
        assert made["h_entrada"] not in [
            e["h_entrada"] for e in corp.get("/entries", params={"limit": 500}).json()["entries"]
        ]
