from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, in_process
from tests.test_instances import CORP_SCHEMA


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """The app in this process with deck (its admin key in the client) and corp."""
    with in_process(tmp_path) as made:
        made[0].instances.add("corp", CORP_SCHEMA)
        yield made


@pytest.fixture(params=["sqlite-local", "postgresql-s3"])
def shaped_api(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Api]:
    """`api` on both shapes: what a refusal leaves behind depends on the engine and store."""
    with in_process(tmp_path, backend=request.param) as made:
        made[0].instances.add("corp", CORP_SCHEMA)
        yield made
