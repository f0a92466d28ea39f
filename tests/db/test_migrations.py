from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import postgres_database
from tzzr.db.engine import create_db_engine, migrate
from tzzr.db.models import Base, include_object


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_migrations_match_the_models_and_rerun_cleanly(db: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}" if db == "sqlite" else postgres_database()
    engine = create_db_engine(url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert (
            compare_metadata(
                MigrationContext.configure(conn, opts={"include_object": include_object}),
                Base.metadata,
            )
            == []
        )
    engine.dispose()


def test_head_constant_is_alembics_newest_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tzzr.db.engine import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD
