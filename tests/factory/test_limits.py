"""THE FACTORY's edges: a cell's constraints that are not numbers, dates outside what a
vision may hold, a Retry-After of infinity, a model URL carrying a password, and a model
name longer than its column (the round's receipt must still verify)."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Api, in_process
from tests.conftest import Live, make_settings, running
from tests.factory.scripted import scripted
from tests.factory.test_refine import leaf, refine, vision
from tzzr.canonical import canonical_json, sha256_hex
from tzzr.config import Settings
from tzzr.factory import drafts, llm
from tzzr.factory.llm import ChatModel, ModelError, ModelRateLimited, ModelUnavailable

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "integer"}}}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with in_process(tmp_path_factory.mktemp("factory-limits") / "home") as made:
        yield made


def refused(response: Any, field: str, says: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field and says in error["message"], error


@pytest.mark.parametrize(
    ("constraints", "field", "says"),
    [
        ({"bogus": 1}, "constraints", "unknown constraint bogus"),
        ({"latencyMs": "abc"}, "constraints.latencyMs", "number"),
    ],
)
def test_a_cells_bad_constraints_are_a_422_naming_them(
    api: Api, constraints: dict[str, Any], field: str, says: str
) -> None:
    _, client = api
    body = {"target": {"cell": "x"}, "constraints": constraints}
    refused(client.post("/factory/refine", json=body), field, says)


def test_a_visions_dates_are_from_1970_to_2200(api: Api) -> None:
    _, client = api
    vid = client.post("/visions", json={"title": "Far"}).json()["id"]
    for constraints in ({"deadline": "9999-12-31"}, {"start": "1969-01-01"}):
        body = {"target": {"vision": vid}, "constraints": constraints}
        refused(client.post("/factory/refine", json=body), "constraints", "2200-12-31")
    # a model's date outside them is dropped (drafts.check then asks for one)
    answer = {"summary": "", "milestones": [
        {"id": "", "title": "Far", "targetDate": "9999-12-31", "weight": 1,
         "actions": [{"id": "", "title": "Later", "due": "0001-01-01"}]}]}  # fmt: skip
    milestone, action = drafts.from_answer(answer, [])
    assert milestone["targetDate"] is None and action["due"] is None


def test_retry_after_infinity_is_no_answer_and_urls_are_shown_without_a_password() -> None:
    for value in ("inf", "nan", "1e400"):
        with scripted([{"status": 429, "headers": {"Retry-After": value}}]) as server:
            url = server.url.replace("http://", "http://tzzr:s3cret@")
            with pytest.raises(ModelRateLimited) as failed:
                ChatModel(url, "tiny", timeout=5).ask("s", "u", SCHEMA, "c")
        assert failed.value.retry_after is None
        assert "s3cret" not in failed.value.message and "tzzr@" not in failed.value.message
        assert llm.shown_url(url) in failed.value.message
    with pytest.raises(ModelUnavailable) as down:
        ChatModel("http://me:s3cret@127.0.0.1:9/v1?key=k3y", "tiny", timeout=5).ask(
            "s", "u", SCHEMA, "c"
        )
    assert "127.0.0.1:9/v1" in down.value.message
    assert "s3cret" not in down.value.message and "k3y" not in down.value.message
    with pytest.raises(ModelError) as unset:
        ChatModel.from_settings(Settings(llm_base_url="https://me:s3cret@models.example/v1"))
    assert "s3cret" not in unset.value.message


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("factory-limits-live") / "home"
    with running(make_settings(home)) as server:
        yield server


def test_a_long_model_name_is_sealed_as_stored(live: Live) -> None:
    draft = {"summary": "s", "milestones": [
        {"id": "", "title": "Base", "targetDate": "2027-03-01", "weight": 1, "actions": []}]}  # fmt: skip
    settings = live.services.settings
    with live.client() as client, scripted([{"content": json.dumps(draft)}]) as model:
        vid = vision(client, "Long name")
        settings.llm_base_url, settings.llm_model = model.url, "m" * 300
        try:
            job = refine(client, {"target": {"vision": vid}, "goal": "x", "rounds": 1})
        finally:
            settings.llm_base_url, settings.llm_model = "", ""
        assert job["status"] == "done", job
        (first,) = job["rounds"]
        assert first["model"] == "m" * 200
        proof = client.get(f"/factory/jobs/{job['jobId']}/rounds/1/receipt").json()
    attested = leaf(live, first["leafIndex"])
    assert sha256_hex(canonical_json(proof["record"])) == attested["hash"]
    assert proof["record"]["model"] == attested["model"] == "m" * 200
