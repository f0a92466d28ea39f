"""Shared fixtures. Real servers come from `make test` (scripts/services.sh) through
TZZR_TEST_* variables; without them a test skips locally and fails under CI=true."""

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tzzr.app import create_app
from tzzr.config import Settings
from tzzr.services import Services

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The test cell package (tests/plugin) joins the registry in every test process.
os.environ["TZZR_TEST_CELLS"] = "1"
# The suite starts many Python processes (servers, workers, the CLI): with bytecode caches
# each starts in about a second, without them (PYTHONDONTWRITEBYTECODE set in the
# environment) each compiles every module it imports again, several seconds a process.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
BACKENDS = ["sqlite-local", "sqlite-s3", "postgresql-local", "postgresql-s3"]


def need(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if not value:
        message = f"{what} is not available: {variable} is unset (`make test` starts it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return value


def postgres_database() -> str:
    """A fresh, empty database on the test PostgreSQL server."""
    import psycopg

    base = need("TZZR_TEST_DATABASE_URL", "PostgreSQL")
    name = f"tzzr_{uuid.uuid4().hex[:12]}"
    plain = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + "/" + name


def s3_bucket() -> tuple[str, str]:
    import boto3

    endpoint = need("TZZR_TEST_S3_ENDPOINT", "the S3 API server")
    bucket = f"tzzr-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    return endpoint, bucket


def s3_settings() -> dict[str, str]:
    """Settings for a fresh bucket on the test S3 API server."""
    endpoint, bucket = s3_bucket()
    return {
        "blob_url": f"s3://{bucket}",
        "s3_endpoint_url": endpoint,
        "s3_region": "us-east-1",
        "s3_access_key_id": "test",
        "s3_secret_access_key": "test",
    }


def make_settings(home: Path, backend: str = "sqlite-local", **extra: Any) -> Settings:
    db, blob = backend.split("-")
    values: dict[str, Any] = {"home": home, **extra}
    if db == "postgresql":
        values["database_url"] = postgres_database()
    if blob == "s3":
        values.update(s3_settings())
    elif blob == "memory":
        values["blob_url"] = "memory://"
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.build(settings)
    yield built
    built.close()


@contextmanager
def live_server(services: Services) -> Iterator[str]:
    """The real app on a real socket (uvicorn in a thread)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(services), log_level="warning", ws="none", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Live:
    url: str
    services: Services
    admin_key: str

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.admin_key}"} if key != "" else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def running(settings: Settings) -> Iterator[Live]:
    built = Services.build(settings)
    key = built.bootstrap()
    assert key is not None
    try:
        with live_server(built) as url:
            yield Live(url, built, key)
    finally:
        built.close()
