"""The index follows what is stored, in the same transaction, on both databases: nothing
is searchable from a transaction that rolled back; a rebuilt index finds the same."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text

from tests.api.conftest import Api, in_process
from tzzr.db.engine import write_transaction
from tzzr.db.models import Entry, SearchDoc
from tzzr.search import index


@pytest.fixture(params=["sqlite-local", "postgresql-local"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    with in_process(tmp_path, backend=request.param) as api:
        yield api


def ingest(api: Api, note: str) -> str:
    response = api[1].post(
        "/ingest",
        data={"metadata": json.dumps({"note": note})},
        files={"file": ("n.txt", note.encode(), "text/plain")},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["h_entrada"])


def found(api: Api, q: str) -> list[str]:
    response = api[1].get("/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [r["h_entrada"] for r in response.json()["results"]]


def test_a_rolled_back_change_is_never_searchable(api: Api) -> None:
    services = api[0]
    h = ingest(api, "Ferretería Gómez")
    deck = services.instances.get("deck")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), write_transaction(services.engine) as conn:
        conn.execute(
            text("UPDATE entries SET contenedor = :c WHERE h_entrada = :h"),
            {"c": json.dumps({"metadata": {"note": "Relojería Sanz"}, "files": []}), "h": h},
        )
        index.refresh(conn, deck.h_instancia, h)
        raise Boom
    assert found(api, "relojeria") == []
    assert found(api, "ferreteria") == [h]


def test_reindex_rebuilds_the_same_index(api: Api) -> None:
    services = api[0]
    made = [ingest(api, f"Recibo número {n} de la librería") for n in range(7)]
    before = found(api, "libreria")
    with write_transaction(services.engine) as conn:
        conn.execute(delete(SearchDoc))
    assert found(api, "libreria") == []
    progress: list[tuple[int, int]] = []
    with write_transaction(services.engine) as conn:
        assert index.reindex(conn, progress=lambda d, t: progress.append((d, t))) == 7
    assert progress[-1] == (7, 7)
    assert sorted(found(api, "libreria")) == sorted(before) == sorted(made)


def test_a_deleted_entry_leaves_the_index(api: Api) -> None:
    services = api[0]
    h = ingest(api, "Carpintería Ruiz")
    with write_transaction(services.engine) as conn:
        conn.execute(delete(Entry).where(Entry.h_entrada == h))
    assert found(api, "carpinteria") == []
    with services.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(SearchDoc)).scalar_one() == 0
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM search_fts")).scalar_one() == 0
