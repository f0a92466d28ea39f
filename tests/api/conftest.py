from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, Live, make_settings, running
from tests.test_instances import CORP_SCHEMA

MiB = 1024 * 1024


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
