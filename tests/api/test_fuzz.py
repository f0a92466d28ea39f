"""schemathesis (a fuzzer nobody here wrote) over every operation of the served OpenAPI
document, with valid keys of a fresh instance (an operator key where the route wants
one): data that fits the schema and data that does not, and no answer is a 5xx.

Bounded for `make test`: a few examples per operation and mode, derandomized so a run
is repeatable. Every 5xx is collected, so one run reports them all."""

import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup

from tests.conftest import Live, make_settings, running

EXAMPLES = 12  # per operation and mode; the whole test stays near a minute on 2 cores


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home: Path = tmp_path_factory.mktemp("fuzz") / "home"
    with running(make_settings(home)) as live:
        with live.client() as client:
            # Something to find: an entry and a sealed block.
            client.post("/ingest", json={"metadata": {"note": "fuzz"}}).raise_for_status()
            client.post("/consolidate").raise_for_status()
        yield live


def fuzz(case_of: Any, call: Any, failures: list[str]) -> None:
    @given(case=case_of)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def examples(case: Case[Any]) -> None:
        call(case, failures)

    with suppress(Unsatisfiable):  # nothing in this operation can be made invalid
        examples()


@pytest.mark.slow
def test_no_input_gets_a_server_error(server: Live) -> None:
    operator, _ = server.services.keys.create_operator()
    document = httpx.get(f"{server.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    calls = 0

    def call(case: Case[Any], failures: list[str]) -> None:
        nonlocal calls
        calls += 1
        operation = document["paths"][case.operation.path][case.method.lower()]
        key = operator if operation.get("x-tzzr-role") == "operator" else server.admin_key
        headers = {"Authorization": f"Bearer {key}"}
        response = case.call(base_url=server.url, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except FailureGroup as exc:  # its message has the curl command that reproduces it
            failures.append(str(exc)[:2000])

    started = time.monotonic()
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # an operation schemathesis cannot read
        operations.append(result.ok())
    assert len(operations) > 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation.as_strategy(generation_mode=mode), call, failures)
    elapsed = time.monotonic() - started
    assert calls > 5 * len(operations), "the fuzzer made few requests: is the schema readable?"
    if failures:
        shown = "\n\n".join(failures[:10])
        pytest.fail(f"{len(failures)} server errors in {calls} calls ({elapsed:.0f} s):\n\n{shown}")
