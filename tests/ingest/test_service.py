"""Recording containers (tzzr.ingest.service): names and media types cleaned, metadata
parsed and checked, blobs first and then one transaction, duplicates refused; over HTTP on
every backend combination and on the builder itself."""

import base64
import hashlib
import os
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Live
from tests.ingest.conftest import multipart, stored, unique_meta
from tzzr.canonical import h_entrada
from tzzr.config import Settings
from tzzr.db.models import Entry
from tzzr.errors import Duplicate, InvalidInput, TooLarge
from tzzr.ingest.service import clean_media_type, clean_name, parse_metadata
from tzzr.instances import InstanceInfo
from tzzr.services import Services


def test_multipart_ingest_then_duplicate(live: Live) -> None:
    meta = unique_meta(note="receipt")
    photo = os.urandom(50_000)
    with live.client() as client:
        first = multipart(client, meta, ("receipt.jpg", photo, "image/jpeg"))
        assert first.status_code == 200, first.text
        body = first.json()
        expected = h_entrada(
            meta,
            [
                {
                    "name": "receipt.jpg",
                    "media_type": "image/jpeg",
                    "sha256": hashlib.sha256(photo).hexdigest(),
                    "size": len(photo),
                }
            ],
        )
        assert body["h_entrada"] == expected
        assert body["h_instancia"] == live.services.instances.get("deck").h_instancia
        assert body["files"][0]["sha256"] == hashlib.sha256(photo).hexdigest()
        assert stored(live, photo)

        again = multipart(client, meta, ("receipt.jpg", photo, "image/jpeg"))
        assert again.status_code == 409
        assert again.json()["h_entrada"] == expected
        assert again.headers["location"] == f"/entries/{expected}"
        assert client.get(again.headers["location"]).json()["h_entrada"] == expected


def test_json_and_multipart_forms_address_the_same_container(live: Live) -> None:
    meta = unique_meta()
    data = b"hello, world"
    with live.client() as client:
        as_json = client.post(
            "/ingest",
            json={
                "metadata": meta,
                "files": [
                    {
                        "name": "a.txt",
                        "media_type": "text/plain",
                        "content": base64.b64encode(data).decode(),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                ],
            },
        )
        assert as_json.status_code == 200, as_json.text
        as_form = multipart(client, meta, ("a.txt", data, "text/plain"))
        assert as_form.status_code == 409
        assert as_form.json()["h_entrada"] == as_json.json()["h_entrada"]


def test_metadata_only_containers_are_fine(live: Live) -> None:
    with live.client() as client:
        response = client.post("/ingest", json={"metadata": unique_meta(kind="record")})
    assert response.status_code == 200
    assert response.json()["files"] == []


def test_company_fields_are_required_on_corp(live: Live) -> None:
    corp_key, _ = live.services.keys.create("corp", "admin")
    with live.client(corp_key) as client:
        missing = client.post("/ingest", json={"metadata": {"company_id": "ES1"}})
        assert missing.status_code == 422
        assert missing.json()["error"]["field"] == "metadata.cost_center"
        ok = client.post(
            "/ingest", json={"metadata": unique_meta(company_id="ES1", cost_center="A")}
        )
        assert ok.status_code == 200
        assert ok.json()["h_instancia"] == live.services.instances.get("corp").h_instancia


@pytest.mark.parametrize(
    ("name", "position", "clean"),
    [
        ("receipt.jpg", 0, "receipt.jpg"),
        ("C:\\Users\\ana\\receipt.jpg", 0, "receipt.jpg"),
        ("../../etc/passwd", 0, "passwd"),
        ("  spaced.txt  ", 0, "spaced.txt"),
        (None, 2, "file-3"),
        ("", 0, "file-1"),
        ("dir/", 4, "dir"),
    ],
)
def test_file_names_keep_only_their_last_component(
    name: str | None, position: int, clean: str
) -> None:
    assert clean_name(name, position) == clean


@pytest.mark.parametrize("name", ["tab\there", "x" * 1025])
def test_control_characters_and_long_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_name(name, 1)
    assert caught.value.field == "files[1].name"


@pytest.mark.parametrize(
    ("media_type", "name", "clean"),
    [
        ("Image/JPEG; charset=binary", "x", "image/jpeg"),
        ("application/octet-stream", "scan.pdf", "application/pdf"),
        (None, "notes.txt", "text/plain"),
        (None, "no-extension", "application/octet-stream"),
    ],
)
def test_media_types_are_normalised_or_guessed(
    media_type: str | None, name: str, clean: str
) -> None:
    assert clean_media_type(media_type, name, 0) == clean


@pytest.mark.parametrize("media_type", ["nope", "image/", "a b/c", "x/" + "y" * 300])
def test_malformed_media_types_are_refused(media_type: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_media_type(media_type, "a", 3)
    assert caught.value.field == "files[3].media_type"


def test_metadata_is_a_json_object_within_the_limit() -> None:
    assert parse_metadata(b'{"a": [1, 2]}', 100) == {"a": [1, 2]}
    assert parse_metadata({"a": 1}, 100) == {"a": 1}
    with pytest.raises(TooLarge):
        parse_metadata(b'{"a": "' + b"x" * 100 + b'"}', 100)
    with pytest.raises(TooLarge):  # a parsed object is measured in canonical form
        parse_metadata({"a": "x" * 100}, 100)
    with pytest.raises(InvalidInput) as caught:
        parse_metadata(b"[1]", 100)
    assert caught.value.field == "metadata"
    with pytest.raises(InvalidInput) as caught:
        parse_metadata({"note": "a\x00b"}, 100)
    assert caught.value.field == "metadata.note"


def count_entries(services: Services) -> int:
    with services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Entry)).scalar_one())


def test_every_declared_digest_is_checked_before_any_blob_is_published(
    services: Services, deck: InstanceInfo
) -> None:
    good, bad = os.urandom(1000), os.urandom(1000)
    with services.ingest.builder(deck) as builder:
        builder.set_metadata(b"{}")
        builder.new_file("good.bin", None, hashlib.sha256(good).hexdigest()).write(good)
        builder.new_file("bad.bin", None, hashlib.sha256(b"other").hexdigest()).write(bad)
        with pytest.raises(InvalidInput) as caught:
            builder.finish()
    assert caught.value.field == "files[1].sha256"
    store = services.ingest.store_for(deck)
    assert not store.exists(hashlib.sha256(good).hexdigest())
    assert count_entries(services) == 0


def test_the_builder_refuses_what_breaks_its_limits(
    services: Services, settings: Settings, deck: InstanceInfo
) -> None:
    with services.ingest.builder(deck) as builder:
        builder.set_metadata(b"{}")
        with pytest.raises(InvalidInput, match="sent twice"):
            builder.set_metadata(b"{}")
        with pytest.raises(InvalidInput) as caught:
            builder.new_file("a", None, "not-hex")
        assert caught.value.field == "files[0].sha256"
        for n in range(settings.max_files - builder.file_count):
            builder.new_file(f"{n}.txt", "text/plain")
        with pytest.raises(TooLarge, match=f"at most {settings.max_files} files"):
            builder.new_file("one-more.txt", "text/plain")
        builder.count(settings.max_request_bytes)
        with pytest.raises(TooLarge):
            builder.count(1)
    assert list(services.ingest.store_for(deck).list()) == []


def test_a_recorded_container_is_addressed_stored_and_refused_twice(
    services: Services, deck: InstanceInfo
) -> None:
    data = b"a receipt"

    def ingest() -> Any:
        with services.ingest.builder(deck) as builder:
            builder.set_metadata({"note": "lunch"})
            builder.new_file("r.txt", "text/plain").write(data)
            return builder.finish()

    result = ingest()
    file: dict[str, Any] = {
        "name": "r.txt",
        "media_type": "text/plain",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    assert result.h_entrada == h_entrada({"note": "lunch"}, [file])
    assert result.as_json()["files"] == [{**file, "path": result.files[0].blob.path}]
    assert result.as_json()["created_at"].endswith("Z")
    assert services.ingest.store_for(deck).read_all(file["sha256"]) == data
    with pytest.raises(Duplicate) as caught:
        ingest()
    assert caught.value.h_entrada == result.h_entrada
    assert count_entries(services) == 1
