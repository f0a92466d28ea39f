"""The in-memory blob store (fast unit tests) takes uploads too: its file is streamed into
the store and checked against the digest computed as it arrived."""

import hashlib
import os
from pathlib import Path

from tests.api.conftest import in_process
from tests.uploads.conftest import OFFSET_TYPE, TUS


def test_an_upload_onto_the_memory_store(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    digest = hashlib.sha256(data).hexdigest()
    with in_process(tmp_path / "home", backend="sqlite-memory") as (services, client):
        created = client.post("/uploads", headers={**TUS, "Upload-Length": str(len(data))})
        assert created.status_code == 201, created.text
        location = created.headers["Location"]
        patched = client.patch(
            location, content=data, headers={**TUS, **OFFSET_TYPE, "Upload-Offset": "0"}
        )
        assert patched.status_code == 204, patched.text
        assert patched.headers["Tzzr-Sha256"] == digest
        assert services.blobs.scoped("deck").read_all(digest) == data
        assert not list((services.settings.home / "uploads").iterdir())
