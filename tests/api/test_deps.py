"""Request-scoped dependencies (tzzr.api.deps): JSON bodies read within a limit and
checked, stored-data reads need `read`, path and query text a database can store."""

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tzzr.api import problems
from tzzr.api.deps import (
    PERMISSION_ATTRIBUTE,
    parse_body,
    require,
    require_operator,
    require_stored_read,
    storable_parameters,
)
from tzzr.errors import Forbidden
from tzzr.keys import Principal
from tzzr.services import Services


class Item(BaseModel):
    name: str
    tags: list[str] = []
    value: Any = None


@pytest.fixture
def client() -> TestClient:
    app = FastAPI(dependencies=[Depends(storable_parameters)])
    problems.install(app)

    @app.post("/items")
    async def items(request: Request) -> dict[str, Any]:
        return (await parse_body(request, Item, limit=200)).model_dump()

    @app.get("/find/{name}")
    def find(name: str, q: str = "") -> dict[str, str]:
        return {"name": name, "q": q}

    return TestClient(app, raise_server_exceptions=False)


def test_a_body_is_parsed_and_validated(client: TestClient) -> None:
    ok = client.post("/items", json={"name": "a", "tags": ["x"]})
    assert ok.status_code == 200 and ok.json() == {"name": "a", "tags": ["x"], "value": None}
    bad = client.post("/items", json={"name": "a", "tags": [1]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "tags[0]"


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client: TestClient) -> None:
    answer = client.post("/items", json={"name": "x" * 300})
    assert answer.status_code == 413
    assert "200 bytes" in answer.json()["error"]["message"]


def test_values_a_json_column_cannot_carry_are_422(client: TestClient) -> None:
    answer = client.post(
        "/items",
        content=b'{"name": "a", "value": 9007199254740993}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "value"
    deep = client.post("/items", content=b'{"name": "a", "value": ' + b"[" * 80 + b"]" * 80 + b"}")
    assert deep.status_code == 422


def test_nul_in_a_path_or_query_parameter_is_422_naming_it(client: TestClient) -> None:
    assert client.get("/find/ok", params={"q": "fine"}).json() == {"name": "ok", "q": "fine"}
    query = client.get("/find/ok", params={"q": "a\x00b"})
    assert query.status_code == 422 and query.json()["error"]["field"] == "q"
    path = client.get("/find/a%00b")
    assert path.status_code == 422 and path.json()["error"]["field"] == "name"


def test_stored_data_needs_read_and_sent_bytes_do_not(services: Services) -> None:
    services.bootstrap()
    key, _ = services.keys.create("deck", "ingest")
    ingest = services.keys.authenticate(f"Bearer {key}")
    assert isinstance(ingest, Principal)
    require_stored_read(ingest, "base64")  # bytes it sends: allowed
    require_stored_read(ingest, None)
    with pytest.raises(Forbidden):
        require_stored_read(ingest, "blob")
    with pytest.raises(Forbidden):
        require_stored_read(ingest, None, h_entrada="ab" * 32)


def test_each_dependency_names_its_permission_for_the_role_table() -> None:
    assert getattr(require("ingest"), PERMISSION_ATTRIBUTE) == "ingest"
    assert getattr(require("admin"), PERMISSION_ATTRIBUTE) == "admin"
    assert getattr(require_operator(), PERMISSION_ATTRIBUTE) == "operator"
