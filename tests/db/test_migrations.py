from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import postgres_database
from tzzr.db.engine import create_db_engine, migrate
from tzzr.db.models import Base


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_migrations_match_the_models_and_rerun_cleanly(db: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}" if db == "sqlite" else postgres_database()
    engine = create_db_engine(url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_unsupported_urls_say_what_to_use() -> None:
    from tzzr.errors import ConfigError

    with pytest.raises(ConfigError, match="postgresql\\+psycopg"):
        create_db_engine("mysql://x/y")


def test_head_constant_is_alembics_newest_revision() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tzzr.db.engine import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_server_migrates_in_a_child_and_never_loads_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from tzzr.config import Settings\n"
        "from tzzr.services import Services\n"
        f"s = Services.build(Settings(home={str(tmp_path)!r}), long_running=True)\n"
        "assert s.instances.list() == []\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
