"""Blob stores: pick a backend from a URL (`file://`, `s3://bucket/prefix`, `memory://`)."""

from urllib.parse import unquote, urlparse

from tzzr.blobs.local import LocalBlobStore
from tzzr.blobs.memory import MemoryBlobStore
from tzzr.blobs.store import BlobInfo, BlobStore, BlobWriter, StoredBlob
from tzzr.config import Settings
from tzzr.errors import ConfigError

__all__ = ["BlobInfo", "BlobStore", "BlobWriter", "StoredBlob", "open_store"]


def open_store(settings: Settings) -> BlobStore:
    url = urlparse(settings.blob_url)
    if url.scheme == "file":
        from pathlib import Path

        return LocalBlobStore(Path(unquote(url.path)))
    if url.scheme == "memory":
        return MemoryBlobStore()
    if url.scheme == "s3":
        from tzzr.blobs.s3 import S3BlobStore

        if not url.netloc:
            raise ConfigError("TZZR_BLOB_URL s3://… needs a bucket name: s3://BUCKET[/PREFIX]")
        return S3BlobStore.connect(
            url.netloc,
            url.path.strip("/"),
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            spool_dir=settings.home / "spool",
        )
    raise ConfigError(
        f"unsupported TZZR_BLOB_URL {settings.blob_url!r}: use file:///path, "
        "s3://bucket[/prefix] or memory://"
    )
