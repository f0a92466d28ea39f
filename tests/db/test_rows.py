"""One row of an instance by its key (tzzr.db.rows): found within its instance only."""

from pathlib import Path

import pytest
from sqlalchemy import insert

from tzzr.db.engine import create_db_engine
from tzzr.db.models import Base, Instance
from tzzr.db.rows import instance_row
from tzzr.errors import NotFound


def test_a_row_is_found_by_its_key_within_its_instance_only(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    Base.metadata.create_all(engine, tables=[Instance.__table__])  # type: ignore[list-item]
    with engine.begin() as conn:
        for number, name in enumerate(("alpha", "beta")):
            conn.execute(
                insert(Instance).values(
                    name=name, h_instancia=f"{number}" * 64, seed="s", blob_prefix=name
                )
            )
    with engine.connect() as conn:
        row = instance_row(conn, Instance, "0" * 64, "none", name="alpha")
        assert (row.name, row.blob_prefix) == ("alpha", "alpha")
        with pytest.raises(NotFound, match="no alpha here"):
            instance_row(conn, Instance, "1" * 64, "no alpha here", name="alpha")
        with pytest.raises(NotFound):
            instance_row(conn, Instance, "0" * 64, "none", name="alpha", blob_prefix="beta")
    engine.dispose()


def test_an_unknown_key_column_is_a_programming_error(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn, pytest.raises(KeyError):
        instance_row(conn, Instance, "0" * 64, "none", nmae="alpha")
    engine.dispose()
