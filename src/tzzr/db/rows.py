"""One row of an instance by its key. Every per-instance table has `h_instancia`, so a
row is always looked up within its instance: another instance's row is not found."""

from typing import Any

from sqlalchemy import Connection, Row, select

from tzzr.db.models import Base
from tzzr.errors import NotFound


def instance_row(
    conn: Connection, table: type[Base], h_instancia: str, missing: str, **key: Any
) -> Row[Any]:
    """The row of `table` in instance `h_instancia` whose columns equal `key`
    (`id=…`, `h_entrada=…`); NotFound(`missing`) when there is none."""
    columns = table.__table__.c
    row = conn.execute(
        select(table).where(
            columns.h_instancia == h_instancia,
            *(columns[name] == value for name, value in key.items()),
        )
    ).first()
    if row is None:
        raise NotFound(missing)
    return row
