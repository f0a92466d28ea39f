from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS, Live, make_settings, running
from tests.test_instances import CORP_SCHEMA
from tzzr.app import create_app
from tzzr.services import Services

MiB = 1024 * 1024
Api = tuple[Services, TestClient]


@contextmanager
def in_process(home: Path, **settings: Any) -> Iterator[Api]:
    """The app in this process on a fresh home, with a client holding deck's admin key."""
    services = Services.build(make_settings(home, **settings))
    key = services.bootstrap()
    client = TestClient(create_app(services))
    client.headers["Authorization"] = f"Bearer {key}"
    try:
        yield services, client
    finally:
        client.close()
        services.close()


def key_of(api: Api, role: Any) -> dict[str, str]:
    """Headers with a new key of `role` for deck."""
    key, _ = api[0].keys.create("deck", role)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=BACKENDS)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """One server per backend combination, with small limits to test them."""
    home: Path = tmp_path_factory.mktemp(request.param)
    settings = make_settings(
        home,
        request.param,
        max_file_bytes=2 * MiB,
        max_request_bytes=3 * MiB,
        max_files=4,
        max_json_body_bytes=1 * MiB,
    )
    with running(settings) as server:
        server.services.instances.add("corp", CORP_SCHEMA)
        yield server
