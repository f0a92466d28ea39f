"""The tables' one piece of logic (db/models.py): UTCDateTime, a moment in UTC on every
backend. An aware moment in any zone is stored as UTC (SQLite keeps no zone: naive UTC
in the file) and read back aware in UTC; a naive one is refused rather than guessed."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from tests.conftest import postgres_database
from tzzr.db.engine import create_db_engine, dispose
from tzzr.db.models import UTCDateTime, utcnow

MOMENTS = Table(
    "moments",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=True),
)
NOON = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'm.db'}" if request.param == "sqlite" else postgres_database()
    built = create_db_engine(url)
    MOMENTS.create(built)
    yield built
    dispose(built)


def stored(engine: Engine, at: datetime | None) -> datetime | None:
    with engine.begin() as conn:
        row_id = conn.execute(insert(MOMENTS).values(at=at).returning(MOMENTS.c.id)).scalar_one()
        read: datetime | None = conn.execute(
            select(MOMENTS.c.at).where(MOMENTS.c.id == row_id)
        ).scalar_one()
    return read


def test_a_moment_in_any_zone_comes_back_in_utc(engine: Engine) -> None:
    madrid = NOON.astimezone(timezone(timedelta(hours=1)))  # 13:00+01:00
    for given in (NOON, madrid):
        read = stored(engine, given)
        assert read == NOON and read is not None and read.tzinfo is UTC
        assert read.microsecond == 123456
    assert stored(engine, None) is None


def test_a_naive_moment_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        stored(engine, datetime(2026, 11, 21, 12))


def test_sqlite_keeps_naive_utc_in_the_file(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        MOMENTS.create(engine)
        stored(engine, NOON.astimezone(timezone(timedelta(hours=-5))))  # 07:00-05:00
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT at FROM moments")).scalar_one()
        assert raw == "2026-11-21 12:00:00.123456"  # UTC, no offset: sorts as time does
    finally:
        dispose(engine)


def test_utcnow_is_aware_and_in_utc() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)
