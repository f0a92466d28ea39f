"""Shared by the ingest tests: one server per backend combination (the api's `live`
fixture) and helpers to post containers and look at what was stored."""

import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import live
from tests.conftest import Live
from tzzr.db.models import Entry
from tzzr.instances import InstanceInfo
from tzzr.services import Services

__all__ = ["deck", "entry_count", "live", "multipart", "stored", "unique_meta"]


def unique_meta(**extra: Any) -> dict[str, Any]:
    return {"test": uuid.uuid4().hex, **extra}


def entry_count(live: Live) -> int:
    with live.services.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Entry)).scalar_one())


def stored(live: Live, data: bytes, instance: str = "deck") -> bool:
    store = live.services.blobs.scoped(instance)
    return store.exists(hashlib.sha256(data).hexdigest())


def multipart(
    client: httpx.Client, meta: dict[str, Any], *files: tuple[str, bytes, str]
) -> httpx.Response:
    return client.post(
        "/ingest",
        data={"metadata": json.dumps(meta)},
        files=[("file", f) for f in files],
    )


@pytest.fixture
def deck(services: Services) -> InstanceInfo:
    """The default instance of a fresh (unserved) set of services."""
    services.bootstrap()
    return services.instances.get("deck")
