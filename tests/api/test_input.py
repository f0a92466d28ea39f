"""Numbers and values JSON cannot carry, in any body: 422 naming the field, on SQLite and
on PostgreSQL (whose JSON columns refuse NaN: a 500 before), and nothing written."""

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
