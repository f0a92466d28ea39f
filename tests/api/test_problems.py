"""Errors mapped to HTTP once (tzzr.api.problems): every answer is
`{"error": {"code", "message", "field"?}}` with the headers its kind needs."""

import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tzzr.api import problems
from tzzr.errors import Busy, Duplicate, InvalidInput, NotFound, Unauthorized


class Body(BaseModel):
    count: int


def make_app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/invalid")
    def invalid() -> None:
        raise InvalidInput("count must be positive", field="count")

    @app.get("/unauthorized")
    def unauthorized() -> None:
        raise Unauthorized("send Authorization: Bearer <key>")

    @app.get("/duplicate")
    def duplicate() -> None:
        raise Duplicate("ab" * 32, "cd" * 32)

    @app.get("/busy")
    def busy() -> None:
        raise Busy("try later", retry_after=7)

    @app.get("/missing")
    def missing() -> None:
        raise NotFound("no such thing")

    @app.post("/validated")
    def validated(body: Body) -> int:
        return body.count

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret detail")

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


def test_tzzr_errors_keep_their_status_code_and_field(client: TestClient) -> None:
    answer = client.get("/invalid")
    assert answer.status_code == 422
    assert answer.json() == {
        "error": {"code": "invalid", "message": "count must be positive", "field": "count"}
    }
    missing = client.get("/missing")
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": "not_found", "message": "no such thing"}


def test_each_kind_gets_the_headers_it_needs(client: TestClient) -> None:
    unauthorized = client.get("/unauthorized")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["www-authenticate"] == "Bearer"
    duplicate = client.get("/duplicate")
    assert duplicate.status_code == 409
    assert duplicate.headers["location"] == f"/entries/{'ab' * 32}"
    assert duplicate.json()["h_entrada"] == "ab" * 32
    busy = client.get("/busy")
    assert busy.status_code == 503 and busy.headers["retry-after"] == "7"
    assert "retry-after" not in client.get("/invalid").headers


def test_request_validation_is_a_422_naming_the_field(client: TestClient) -> None:
    answer = client.post("/validated", json={"count": "many"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid"
    assert answer.json()["error"]["field"] == "count"


def test_routing_errors_are_problems_too(client: TestClient) -> None:
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong = client.delete("/invalid")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET"


def test_an_internal_error_hides_its_detail_and_names_an_incident(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tzzr"):
        answer = client.get("/crash")
    assert answer.status_code == 500
    message = answer.json()["error"]["message"]
    assert "secret detail" not in answer.text
    incident = re.fullmatch(r"internal error; the server log names it ([0-9a-f]{12})", message)
    assert incident is not None
    assert any(incident.group(1) in r.getMessage() for r in caplog.records)
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.exc_info is not None and str(logged.exc_info[1]) == "secret detail"


def test_problem_leaves_out_an_empty_field() -> None:
    assert problems.problem(400, "x", "m").body == b'{"error":{"code":"x","message":"m"}}'
    assert b'"field":"f"' in bytes(problems.problem(400, "x", "m", "f").body)
