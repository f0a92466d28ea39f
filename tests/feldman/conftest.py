from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tzzr.services import Services


@pytest.fixture(params=["sqlite-local", "postgresql-local"])
def ledger_services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    services = Services.build(make_settings(tmp_path, request.param))
    services.bootstrap()
    yield services
    services.close()
