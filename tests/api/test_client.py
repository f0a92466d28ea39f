"""A client generated from the served OpenAPI document (openapi-python-client, a tool
nobody here wrote) ingests a container, creates and reads a flow, and queues and reads
a run. The generator lives in its own venv (scripts/venv.sh makes .venv-tools: its
typer pin conflicts with ours); the generated code runs on our interpreter."""

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, Live, make_settings, running

ROOT = Path(__file__).parents[2]
GENERATOR = ROOT / ".venv-tools" / "bin" / "openapi-python-client"
CONFIG = "post_hooks: []\npackage_name_override: tzzr_client\nproject_name_override: tzzr-client\n"

# Runs with the generated package on sys.path; the modules to call come as arguments,
# so the script does not hard-code operation ids.
SCRIPT = """
import importlib, json, sys
from tzzr_client import AuthenticatedClient
from tzzr_client.models import FlowSpec, JsonContainer, RunBody

url, key, tag, ingest, create_flow, get_flow, run_cell, get_run = sys.argv[1:]
api = lambda name: importlib.import_module("tzzr_client.api.default." + name)
out = {}
with AuthenticatedClient(base_url=url, token=key, raise_on_unexpected_status=True) as client:
    sent = api(ingest).sync_detailed(
        client=client, body=JsonContainer.from_dict({"metadata": {"note": "lunch", "tag": tag}})
    )
    out["ingest"] = [sent.status_code, json.loads(sent.content)]
    spec = FlowSpec.from_dict(
        {"id": "client-" + tag, "steps": [{"id": "echo", "cell": "test-echo"}]}
    )
    made = api(create_flow).sync_detailed(client=client, body=spec)
    out["create_flow"] = [made.status_code, json.loads(made.content)]
    read = api(get_flow).sync_detailed("client-" + tag, client=client)
    out["get_flow"] = [read.status_code, json.loads(read.content)]
    body = RunBody.from_dict(
        {"input": {"type": "text", "encoding": "base64", "content": "aGVsbG8="}}
    )
    queued = api(run_cell).sync_detailed("test-echo", client=client, body=body)
    out["run_cell"] = [queued.status_code, json.loads(queued.content)]
    run = api(get_run).sync_detailed(json.loads(queued.content)["runId"], client=client)
    out["get_run"] = [run.status_code, json.loads(run.content)]
print(json.dumps(out))
"""


def generator() -> Path:
    if not GENERATOR.exists():
        message = f"{GENERATOR} is missing: `scripts/venv.sh test` (or `make test`) makes it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return GENERATOR


def patch_unset_import(package: Path) -> int:
    """openapi-python-client 0.29.1 writes `| Unset` into the body of an operation with
    two body types (POST /ingest: JSON or multipart) without importing `Unset`
    (upstream issue #1451, fix in PR #1478): add the import where it is missing."""
    patched = 0
    for module in (package / "api").rglob("*.py"):
        text = module.read_text()
        if "| Unset" in text and not re.search(r"^from \.\.\.types import .*\bUnset\b", text, re.M):
            module.write_text("from ...types import Unset\n" + text)
            patched += 1
    return patched


def module_of(document: dict[str, Any], method: str, path: str) -> str:
    """The generated module of an operation: its operation id in the generator's
    snake case (runs of underscores become one)."""
    operation_id: str = document["paths"][path][method]["operationId"]
    return "_".join(word for word in operation_id.lower().split("_") if word)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("client") / "home")) as live:
        yield live


@pytest.mark.slow
def test_a_generated_client_calls_ingest_flows_and_runs(server: Live, tmp_path: Path) -> None:
    tool = generator()
    with server.client() as client:
        document = client.get("/openapi.json").json()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    (tmp_path / "config.yaml").write_text(CONFIG)
    generated = subprocess.run(
        [
            str(tool),
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--output-path",
            str(tmp_path / "tzzr_client"),
            "--meta",
            "none",
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    patch_unset_import(tmp_path / "tzzr_client")
    modules = [
        module_of(document, "post", "/ingest"),
        module_of(document, "post", "/flows"),
        module_of(document, "get", "/flows/{flow_id}"),
        module_of(document, "post", "/api/cells/{cell_id}/run"),
        module_of(document, "get", "/api/runs/{run_id}"),
    ]
    tag = uuid.uuid4().hex[:8]
    called = subprocess.run(
        [sys.executable, "-c", SCRIPT, server.url, server.admin_key, tag, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert called.returncode == 0, called.stderr
    out = json.loads(called.stdout)

    status, entry = out["ingest"]
    assert status == 200 and len(entry["h_entrada"]) == 64
    assert server.services.entries.get(server.services.instances.get("deck"), entry["h_entrada"])
    status, flow = out["create_flow"]
    assert status == 201 and flow["version"] == 1
    status, read = out["get_flow"]
    assert status == 200 and read["spec"]["steps"] == flow["spec"]["steps"]
    assert read["spec"]["steps"][0]["cell"] == "test-echo"
    status, queued = out["run_cell"]
    assert status == 202 and queued["status"] == "queued"
    status, run = out["get_run"]
    assert status == 200 and run["runId"] == queued["runId"]
    assert run["cellId"] == "test-echo" and run["status"] in ("queued", "running", "done")
