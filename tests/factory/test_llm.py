"""The model client against scripted OpenAI-compatible servers: the structured-output
request it sends, the repair round, and the errors that say what to fix."""

import json
import socket
from typing import Any

import pytest

from tests.factory.scripted import scripted
from tzzr.config import Settings
from tzzr.factory.llm import (
    ChatModel,
    ModelError,
    ModelInvalidOutput,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    prompt_hash,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 1}},
    "required": ["n"],
    "additionalProperties": False,
}


def model(url: str, **kw: Any) -> ChatModel:
    return ChatModel(url, "tiny", timeout=kw.pop("timeout", 5.0), **kw)


def test_a_valid_answer_is_parsed_and_the_request_asks_for_the_schema() -> None:
    with scripted([{"content": '{"n": 3}'}]) as server:
        answer = model(server.url).ask("sys", "user", SCHEMA, "count")
    assert answer.data == {"n": 3} and not answer.repaired and answer.model == "tiny"
    (sent,) = server.requests
    assert sent["model"] == "tiny"
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "count", "schema": SCHEMA, "strict": True},
    }
    assert sent["messages"][0] == {"role": "system", "content": "sys"}
    assert answer.prompt_hash == prompt_hash(sent["messages"], SCHEMA)
    assert answer.parameters == {"temperature": 0.2, "max_tokens": 2048}


def test_malformed_output_gets_one_repair_round() -> None:
    with scripted([{"content": '{"n": 3'}, {"content": '{"n": 4}'}]) as server:
        answer = model(server.url).ask("sys", "user", SCHEMA, "count")
    assert answer.data == {"n": 4} and answer.repaired
    _first, second = server.requests
    assert second["messages"][2] == {"role": "assistant", "content": '{"n": 3'}
    assert "not JSON" in second["messages"][3]["content"]


def test_output_against_the_schema_twice_fails_saying_what_is_wrong() -> None:
    with scripted([{"content": '{"n": 0}'}]) as server, pytest.raises(ModelInvalidOutput) as failed:
        model(server.url).ask("sys", "user", SCHEMA, "count")
    assert len(server.requests) == 2
    assert "n: 0 is less than the minimum of 1" in failed.value.message
    assert "after a repair round" in failed.value.message
    assert "is less than the minimum" in server.requests[1]["messages"][3]["content"]


def test_429_waits_as_retry_after_says_then_answers() -> None:
    waits: list[float] = []
    steps: list[dict[str, Any]] = [
        {"status": 429, "headers": {"Retry-After": "2"}},
        {"content": '{"n": 1}'},
    ]
    with scripted(steps) as server:
        answer = model(server.url, sleep=waits.append).ask("s", "u", SCHEMA, "count")
    assert answer.data == {"n": 1} and waits == [2.0] and len(server.requests) == 2


def test_429_longer_than_the_bound_is_an_error_that_says_so() -> None:
    waits: list[float] = []
    steps = [{"status": 429, "headers": {"Retry-After": "120"}}]
    with scripted(steps) as server, pytest.raises(ModelRateLimited) as failed:
        model(server.url, sleep=waits.append, retry_wait=30).ask("s", "u", SCHEMA, "c")
    assert waits == [] and len(server.requests) == 1
    assert "429" in failed.value.message and "120 s" in failed.value.message
    assert "TZZR_LLM_RETRY_WAIT_SECONDS" in failed.value.message
    assert failed.value.retry_after == 120


def test_429_retries_are_bounded() -> None:
    waits: list[float] = []
    with (
        scripted([{"status": 429, "headers": {"Retry-After": "1"}}]) as server,
        pytest.raises(ModelRateLimited),
    ):
        model(server.url, sleep=waits.append).ask("s", "u", SCHEMA, "c")
    assert waits == [1.0, 1.0, 1.0] and len(server.requests) == 4


def test_a_server_slower_than_the_timeout() -> None:
    with (
        scripted([{"sleep": 5, "content": '{"n": 1}'}]) as server,
        pytest.raises(ModelTimeout) as failed,
    ):
        model(server.url, timeout=0.3).ask("s", "u", SCHEMA, "c")
    assert "did not answer within 0.3 s" in failed.value.message
    assert "TZZR_LLM_TIMEOUT_SECONDS" in failed.value.message


def test_5xx_and_4xx_answers() -> None:
    with (
        scripted([{"status": 503, "message": "loading model"}]) as server,
        pytest.raises(ModelUnavailable) as failed,
    ):
        model(server.url).ask("s", "u", SCHEMA, "c")
    assert "failed with 503" in failed.value.message and "loading model" in failed.value.message
    with scripted([{"status": 404}]) as server, pytest.raises(ModelError, match="TZZR_LLM_MODEL"):
        model(server.url).ask("s", "u", SCHEMA, "c")
    with scripted([{"status": 401}]) as server, pytest.raises(ModelError, match="TZZR_LLM_API_KEY"):
        model(server.url).ask("s", "u", SCHEMA, "c")


def test_connection_refused_names_the_url_to_fix() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(ModelUnavailable) as failed:
        model(url).ask("s", "u", SCHEMA, "c")
    assert url in failed.value.message and "TZZR_LLM_BASE_URL" in failed.value.message


def test_settings_choose_the_model(tmp_path: Any) -> None:
    assert ChatModel.from_settings(Settings(home=tmp_path)) is None
    with pytest.raises(ModelError, match="TZZR_LLM_MODEL"):
        ChatModel.from_settings(Settings(home=tmp_path, llm_base_url="http://127.0.0.1:1/v1"))
    chosen = ChatModel.from_settings(
        Settings(home=tmp_path, llm_base_url="http://127.0.0.1:1/v1", llm_model="m")
    )
    assert chosen is not None and chosen.model == "m"
    assert json.loads(json.dumps(chosen.parameters)) == chosen.parameters
