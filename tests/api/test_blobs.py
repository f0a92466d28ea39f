"""`GET /blobs/{sha256}`: a blob streamed whole or by ranges, with its type and ETag."""

import hashlib
import os

from tests.conftest import Live
from tests.ingest.conftest import multipart, unique_meta


def test_blobs_stream_with_ranges(live: Live) -> None:
    data = os.urandom(600_000)
    digest = hashlib.sha256(data).hexdigest()
    with live.client() as client:
        multipart(client, unique_meta(), ("v.webm", data, "video/webm"))
        full = client.get(f"/blobs/{digest}")
        assert full.status_code == 200
        assert full.content == data
        assert full.headers["content-type"] == "video/webm"
        assert full.headers["etag"] == f'"{digest}"'
        part = client.get(f"/blobs/{digest}", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.content == data[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
        tail = client.get(f"/blobs/{digest}", headers={"Range": "bytes=-10"})
        assert tail.content == data[-10:]
        open_end = client.get(f"/blobs/{digest}", headers={"Range": f"bytes={len(data) - 3}-"})
        assert open_end.content == data[-3:]
        beyond = client.get(f"/blobs/{digest}", headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == f"bytes */{len(data)}"
        head = client.head(f"/blobs/{digest}")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        assert client.get("/blobs/nothex").status_code == 422
        assert client.get(f"/blobs/{'0' * 64}").status_code == 404
        assert client.get("/entries/nothex").status_code == 422
