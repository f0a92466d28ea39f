"""S3-compatible backend (Cloudflare R2, MinIO, AWS) through boto3.

The key is the content's digest, known only once the last byte has arrived, so a
write spools to a local temporary file while it is hashed; `commit` then uploads it
under its address (a managed multipart upload for large files: the object appears
only when the upload completes, so readers never see a partial blob).
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from tzzr.blobs.store import CHUNK, BlobStore, StoredBlob, TempFileSink
from tzzr.types import HexDigest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024


class _SpoolSink(TempFileSink):
    def __init__(self, store: "S3BlobStore") -> None:
        super().__init__(store.spool_dir, "s3-upload-")
        self._store = store

    def commit(self, key: str) -> None:
        self._file.close()
        try:
            self._store.client.upload_file(
                str(self._path), self._store.bucket, key, Config=self._store.transfer_config
            )
        finally:
            self._path.unlink(missing_ok=True)


class S3BlobStore(BlobStore):
    scheme = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: "S3Client",
        spool_dir: Path,
    ) -> None:
        super().__init__(prefix)
        from boto3.s3.transfer import TransferConfig

        self.bucket = bucket
        self.client = client
        self.spool_dir = spool_dir
        # Few, large parts keep memory bounded (max_concurrency × chunksize).
        self.transfer_config = TransferConfig(
            multipart_threshold=64 * MiB, multipart_chunksize=16 * MiB, max_concurrency=4
        )

    @classmethod
    def connect(
        cls,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        spool_dir: Path,
    ) -> "S3BlobStore":
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=None if region == "auto" and endpoint_url is None else region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                # R2 and older MinIO reject the newer default trailing checksums.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        return cls(bucket, prefix, client=client, spool_dir=spool_dir)

    def _clone(self, prefix: str) -> Self:
        return type(self)(self.bucket, prefix, client=self.client, spool_dir=self.spool_dir)

    def _sink(self) -> _SpoolSink:
        return _SpoolSink(self)

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _exists(self, key: str) -> bool:
        return self._head(key) is not None

    def _size(self, key: str) -> int | None:
        head = self._head(key)
        return None if head is None else int(head["ContentLength"])

    def _read(self, key: str, start: int, end: int) -> Iterator[bytes]:
        response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def _read_whole(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:  # one request, where a HEAD and a ranged GET would be two
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def adopt_object(self, key: str, digest: HexDigest) -> StoredBlob:
        """Move the finished object `key` (a completed multipart upload whose digest the
        caller computed as its parts arrived) to its content address: a server-side copy
        (the managed copy goes part by part past 5 GB), then the staging object is
        deleted. Write-once: an existing blob is kept."""
        final = self.key(digest)
        head = self._head(final)
        if head is None:
            self.client.copy(
                {"Bucket": self.bucket, "Key": key}, self.bucket, final, Config=self.transfer_config
            )
            head = self._head(final)
            if head is None:
                raise FileNotFoundError(final)
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return StoredBlob(digest, int(head["ContentLength"]), final)

    def _put_named(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _list(self, prefix: str) -> Iterator[tuple[str, int, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{prefix}/" if prefix else ""):
            for item in page.get("Contents", []):
                yield item["Key"], item["Size"], item["LastModified"]

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)
