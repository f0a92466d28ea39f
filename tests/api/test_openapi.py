"""The served OpenAPI document validates, and what it declares holds: every integer
parameter refuses a value outside 64 bits with a 422 naming it."""

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import Live, make_settings, running

TOO_BIG = 2**64
METHODS = ("get", "put", "post", "delete", "patch", "head")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("openapi") / "home")) as live:
        yield live


@pytest.fixture(scope="module")
def document(server: Live) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_the_served_document_validates(document: dict[str, Any]) -> None:
    validate(document)  # raises on the first problem (duplicate ids, bad refs, ...)


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = Counter(operation["operationId"] for _, _, operation in operations(document))
    assert len(ids) > 50
    assert [name for name, count in ids.items() if count > 1] == []


def test_every_reference_resolves_to_a_component(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    found = set(refs(document))
    assert "#/components/schemas/RunInput" in found  # a model nested in a body
    prefix = "#/components/schemas/"
    assert [ref for ref in found if not ref.startswith(prefix)] == []
    assert [ref for ref in found if ref.removeprefix(prefix) not in schemas] == []


def test_hand_read_bodies_are_described(document: dict[str, Any]) -> None:
    """Routes that read their body themselves still declare it, with a named schema."""
    for method, path in [
        ("post", "/api/cells/{cell_id}/run"),
        ("post", "/execute"),
        ("post", "/flows"),
        ("put", "/flows/{flow_id}"),
        ("post", "/grace/runsync"),
    ]:
        body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].startswith("#/components/schemas/"), (method, path)


def test_validation_errors_are_described_as_problems(document: dict[str, Any]) -> None:
    answer = document["paths"]["/flows/{flow_id}"]["get"]["responses"]["422"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]


def integer_parameters(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            options = schema.get("anyOf", [schema])
            if any(option.get("type") == "integer" for option in options):
                found.append((method, path, parameter["name"], operation))
    return found


def request_for(path: str, operation: dict[str, Any], name: str, value: int) -> tuple[str, Any]:
    """The path with `value` for parameter `name`, placeholders for the other path
    parameters, 1 for other required integers."""
    query: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        given = value if parameter["name"] == name else None
        if parameter["in"] == "path":
            # another integer path parameter (a milestone's beside its vision's) gets a
            # valid 1, so that the answer is about this one
            other = "1" if "integer" in json.dumps(parameter["schema"]) else "x"
            path = path.replace("{" + parameter["name"] + "}", str(given or other))
        elif parameter["in"] == "query" and (given is not None or parameter.get("required")):
            query[parameter["name"]] = 1 if given is None else given
    return path, query


def test_integers_are_bounded_in_the_document(document: dict[str, Any]) -> None:
    """Every integer parameter declares a 64-bit range, so clients and fuzzers know it."""
    found = integer_parameters(document)
    assert len(found) >= 10
    unbounded = []
    for method, path, name, operation in found:
        schema = next(p["schema"] for p in operation["parameters"] if p["name"] == name)
        option = next(o for o in schema.get("anyOf", [schema]) if o.get("type") == "integer")
        if "maximum" not in option or option["maximum"] > 2**63 - 1 or "minimum" not in option:
            unbounded.append(f"{method.upper()} {path} {name}")
    assert unbounded == []


@pytest.mark.parametrize("value", [TOO_BIG, -TOO_BIG])
def test_integers_out_of_range_are_422_naming_the_field(
    server: Live, document: dict[str, Any], value: int
) -> None:
    answers = []
    with server.client() as admin:
        for method, path, name, operation in integer_parameters(document):
            url, query = request_for(path, operation, name, value)
            response = admin.request(method.upper(), url, params=query)
            if response.status_code == 403:  # the key is checked first: an operator's route
                operator, _ = server.services.keys.create_operator()
                with server.client(operator) as server_wide:
                    response = server_wide.request(method.upper(), url, params=query)
            error = response.json()["error"] if response.content else {}
            answers.append((method, path, name, response.status_code, error.get("field")))
    assert [a for a in answers if a[3:] != (422, a[2])] == []


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        # The two the outside fuzzer found (SQLite's OverflowError gave 500s).
        ("GET", "/flows/x?version=-1692754982644868410507264", "version"),
        ("POST", "/sentinel/alerts/5291952566066548310016/resolve", "alert_id"),
        ("GET", "/bloque/0", "number"),
        ("GET", "/consistency?first=1&second=9223372036854775808", "second"),
    ],
)
def test_known_overflows(server: Live, method: str, url: str, field: str) -> None:
    with server.client() as client:
        response = client.request(method, url)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_a_second_app_serves_the_same_document(server: Live, document: dict[str, Any]) -> None:
    """The collected body schemas are shared by every app of the process: building
    another one neither loses nor duplicates them."""
    from tzzr.app import create_app

    assert create_app(server.services).openapi() == document
