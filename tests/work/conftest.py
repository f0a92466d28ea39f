"""A migrated database for the durable-work core's tests: SQLite, and PostgreSQL where
it matters (lease claims, schedulers racing) when the test server is there."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import postgres_database
from tzzr.db.engine import create_db_engine, dispose, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'tzzr.db'}" if request.param == "sqlite" else postgres_database()
    built = create_db_engine(url)
    migrate(built)
    yield built
    dispose(built)
