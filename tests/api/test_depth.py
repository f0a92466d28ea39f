"""JSON nested too deep is a 422 naming the field on every route that reads JSON (and
YAML), whether the parser gives up (100,000 levels) or the document parses and the depth
walk refuses it (100 levels) — never a 500 from a RecursionError further on."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_settings, running

H = "0" * 64


def arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("depth"))) as server:
        yield server


def envelope(params: str) -> str:
    return (
        '{"input": {"contract_version": "2.1", "routing": {"module": "TEST_ECHO"}, '
        '"payload": {"type": "bytes", "encoding": "base64", "content": ""}, '
        f'"params": {{"a": {params}}}}}}}'
    )


# (method, path, content type, body from a deep value, the field named)
ROUTES: list[tuple[str, str, str, Any, str]] = [
    ("POST", "/ingest", "json", lambda d: f'{{"metadata": {{"a": {d}}}}}', "metadata.a"),
    (
        "POST",
        "/api/cells/test-echo/run",
        "json",
        lambda d: f'{{"params": {{"a": {d}}}}}',
        "params.a",
    ),
    ("POST", "/grace/runsync", "json", envelope, "input.params"),
    ("POST", "/grace/run", "json", envelope, "input.params"),
    (
        "POST",
        "/execute",
        "json",
        lambda d: f'{{"flow": "x", "input": {{"type": "bytes", "content": {d}}}}}',
        "input.content",
    ),
    ("PUT", f"/enrich/{H}", "json", lambda d: f'{{"fields": {{"a": {d}}}}}', "fields.a"),
    (
        "POST",
        "/flows",
        "json",
        lambda d: f'{{"id": "x", "steps": [{{"id": "a", "cell": "c", "params": {d}}}]}}',
        "steps[0].params",
    ),
    ("POST", "/flows", "yaml", lambda d: f'{{"id": "x", "steps": [{d}]}}', "body"),
    (
        "PUT",
        "/flows/x",
        "json",
        lambda d: f'{{"id": "x", "description": {{"a": {d}}}}}',
        "description.a",
    ),
    ("POST", "/api/admin/cells", "json", lambda d: CELL.replace("@@", d), "inputFormat.a"),
]
# A whole registration, so that nothing but the depth is wrong with it.
CELL = (
    '{"id": "deep", "type": "test", "version": "1.0.0", "apiEndpoint": "/x", '
    '"microserviceUrl": "https://grace.example", "module": "TEST_DEEP", "accepts": ["bytes"], '
    '"inputFormat": {"a": @@}}'
)
TYPED = {"/execute"}  # no free-form field: under the parser's limit, a type error comes first


def send(client: httpx.Client, method: str, path: str, kind: str, body: str) -> httpx.Response:
    content_type = "application/yaml" if kind == "yaml" else "application/json"
    return client.request(method, path, content=body, headers={"Content-Type": content_type})


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    error = response.json()["error"]
    assert error["code"] == "invalid" and "64 levels" in error["message"], error
    assert error["field"] == field, error


@pytest.mark.parametrize("deep", [arrays(100_000), objects(40_000), objects(100)])
@pytest.mark.parametrize(("method", "path", "kind", "body", "field"), ROUTES)
def test_deep_json_is_422_naming_the_field(
    live: Live, deep: str, method: str, path: str, kind: str, body: Any, field: str
) -> None:
    with live.client() as client:
        response = send(client, method, path, kind, body(deep))
    if path in TYPED and len(deep) < 1000:
        assert response.status_code == 422, response.text[:500]
    else:
        refused(response, field)


@pytest.mark.parametrize("deep", [arrays(100_000), objects(40_000), objects(100)])
def test_deep_multipart_metadata_is_422(live: Live, deep: str) -> None:
    with live.client() as client:
        response = client.post(
            "/ingest",
            data={"metadata": f'{{"a": {deep}}}'},
            files={"file": ("x.txt", b"x", "text/plain")},
        )
    refused(response, "metadata.a")


@pytest.mark.parametrize("path", ["/entries", "/sentinel/events"])
def test_a_forged_deep_cursor_is_422(live: Live, path: str) -> None:
    cursor = base64.urlsafe_b64encode(arrays(5000).encode()).decode().rstrip("=")
    with live.client() as client:
        response = client.get(path, params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_metadata_at_the_limit_is_accepted(live: Live) -> None:
    metadata = json.loads(objects(63))  # 64 with the body object
    with live.client() as client:
        response = client.post("/ingest", json={"metadata": metadata})
    assert response.status_code == 200, response.text


def test_the_server_logged_no_internal_error(live: Live, caplog: pytest.LogCaptureFixture) -> None:
    with live.client() as client, caplog.at_level("ERROR", logger="tzzr"):
        send(client, "POST", "/ingest", "json", f'{{"metadata": {arrays(100_000)}}}')
    assert not [r for r in caplog.records if "internal error" in r.getMessage()]


def test_big_flat_metadata_is_not_refused(tmp_path: Path) -> None:
    metadata = {"rows": [[i, {"v": i}] for i in range(5000)]}
    with running(make_settings(tmp_path / "home")) as server, server.client() as client:
        response = client.post("/ingest", json={"metadata": metadata})
    assert response.status_code == 200, response.text
