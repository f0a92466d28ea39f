"""Numbers and values JSON cannot carry, in any body: 422 naming the field, on SQLite and
on PostgreSQL (whose JSON columns refuse NaN: a 500 before), and nothing written."""

import base64
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import Live, make_settings, running

RUN = '{"input": {"type": "text", "encoding": "base64", "content": "aGVsbG8="}, "params": %s}'
ENVELOPE = (
    '{"input": {"contract_version": "2.1", "routing": {"module": "TEST_ECHO"}, '
    '"payload": {"type": "text", "encoding": "base64", "content": "aGVsbG8="}, "params": %s}}'
)
FLOW = '{"id": "bad-numbers", "steps": [{"id": "a", "cell": "test-echo", "params": %s}]}'
YAML_FLOW = "id: bad-yaml\nsteps:\n  - id: a\n    cell: test-echo\n    params:\n      n: %s\n"
JSON = "application/json"


@pytest.fixture(scope="module", params=["sqlite-local", "postgresql-local"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    home = tmp_path_factory.mktemp(request.param) / "home"
    with running(make_settings(home, request.param)) as live:
        yield live


@pytest.mark.parametrize(
    ("method", "path", "body", "kind", "field"),
    [
        (
            "POST",
            "/api/cells/ocr-core/specialize",
            '{"prompt": "x", "params": {"n": NaN}}',
            JSON,
            "params.n",
        ),
        ("POST", "/api/cells/test-echo/run", RUN % '{"n": Infinity}', JSON, "params.n"),
        (
            "POST",
            "/api/cells/test-echo/run",
            RUN % '{"n": 123456789012345678901234567890}',
            JSON,
            "params.n",
        ),
        ("POST", "/grace/run", ENVELOPE % '{"n": -Infinity}', JSON, "input.params.n"),
        ("PUT", "/enrich/" + "a" * 64, '{"fields": {"n": 1e400}}', JSON, "fields.n"),
        ("POST", "/flows", FLOW % '{"n": NaN}', JSON, "steps[0].params.n"),
        ("POST", "/flows", FLOW % '{"n": 9007199254740993}', JSON, "steps[0].params.n"),
        ("POST", "/flows", YAML_FLOW % '!!binary "/w=="', "application/yaml", "steps[0].params.n"),
        ("POST", "/flows", YAML_FLOW % ".nan", "application/yaml", "steps[0].params.n"),
        ("POST", "/flows", YAML_FLOW % "!!set {a, b}", "application/yaml", "steps[0].params.n"),
        # NUL: PostgreSQL's JSON columns refuse it; an unpaired surrogate is not Unicode.
        ("POST", "/flows", '{"id": "nul", "description": "a\\u0000"}', JSON, "description"),
        ("POST", "/flows", '{"id": "sur", "description": "\\ud800"}', JSON, "description"),
        ("POST", "/api/cells/test-echo/run", RUN % '{"n": "a\\u0000"}', JSON, "params.n"),
        ("POST", "/ingest", '{"metadata": {"note": "a\\u0000"}}', JSON, "metadata.note"),
    ],
)
def test_values_json_cannot_carry_are_422_naming_the_field(
    server: Live, method: str, path: str, body: str, kind: str, field: str
) -> None:
    with server.client() as client:
        before = client.get("/flows").json()["flows"]
        response = client.request(method, path, content=body, headers={"Content-Type": kind})
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field
        assert field in response.json()["error"]["message"]
        assert client.get("/flows").json()["flows"] == before
        assert client.get("/api/runs").json()["runs"] == []


def test_finite_numbers_and_safe_integers_are_kept(server: Live) -> None:
    with server.client() as client:
        made = client.post(
            "/flows",
            content=FLOW % '{"n": 9007199254740991, "x": -1.5}',
            headers={"Content-Type": JSON},
        )
        assert made.status_code == 201, made.text
        assert made.json()["spec"]["steps"][0]["params"] == {"n": 2**53 - 1, "x": -1.5}
        client.delete("/flows/bad-numbers")


def test_a_utf8_filename_in_a_multipart_part_survives(server: Live) -> None:
    """python-multipart re-encoded the header as latin-1: a filename past U+00FF was a
    500 (found by the fuzzer), and 'ñ' came back mangled."""
    name = "recibo-ñ-😀.txt"
    body = (
        b'--B\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
        + f'{{"note": "{uuid.uuid4().hex}"}}'.encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="'
        + name.encode()
        + b'"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n'
    )
    with server.client() as client:
        response = client.post(
            "/ingest", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
        )
        assert response.status_code == 200, response.text
        entry = client.get(f"/entries/{response.json()['h_entrada']}").json()
    assert [item["name"] for item in entry["contenedor"]["files"]] == [name]


def cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        # Forged cursors: the id overflowed SQLite, a naive time the zone-aware column.
        ("/entries", {"cursor": cursor(["2024-01-01T00:00:00+00:00", 2**70])}, "cursor"),
        ("/entries", {"cursor": cursor(["2024-01-01T00:00:00+00:00", -1])}, "cursor"),
        ("/entries", {"cursor": cursor(["0001-01-01T00:00:00+14:00", 1])}, "cursor"),
        ("/sentinel/events", {"cursor": cursor({"before": 2**70})}, "cursor"),
        # Moments that exist in their zone but not in UTC.
        ("/entries", {"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ("/entries", {"until": "9999-12-31T23:59:59-14:00"}, "until"),
        ("/sentinel/events", {"since": "0001-01-01T00:00:00+14:00"}, "since"),
    ],
)
def test_forged_cursors_and_moments_past_utc_are_422(
    server: Live, path: str, params: dict[str, str], field: str
) -> None:
    with server.client() as client:
        response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert not response.json()["error"]["message"].startswith("Value error")


def test_a_naive_cursor_time_is_taken_as_utc(server: Live) -> None:
    with server.client() as client:
        response = client.get("/entries", params={"cursor": cursor(["0001-01-01T00:00:00", 1])})
    assert response.status_code == 200 and response.json()["entries"] == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        # NUL in a path or query parameter went into a PostgreSQL query: 500.
        ("/flows/a%00b", "flow_id"),
        ("/api/jobs/a%00b", "job_id"),
        ("/entries?state=a%00b", "state"),
        ("/sentinel/events?subject=a%00b", "subject"),
        ("/executions?flow=a%00b", "flow"),
        # INTEGER columns are 32 bits on PostgreSQL.
        ("/bloque/2147483648", "number"),
        ("/bloques?before=2147483648", "before"),
        ("/flows/x?version=2147483648", "version"),
    ],
)
def test_parameters_a_database_cannot_take_are_422(server: Live, url: str, field: str) -> None:
    with server.client() as client:
        response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
