"""Optional tracing: a request's span, the run's span in the worker (its parent carried
through the queue in the run's row), and the cell's span inside it."""

from pathlib import Path

from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import make_settings
from tzzr.app import create_app
from tzzr.sentinel import tracing
from tzzr.services import Services


def test_spans_go_from_the_api_through_the_queue_to_the_cell(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    exporter = InMemorySpanExporter()
    assert tracing.setup(settings, "tzzr-test", exporter)
    try:
        services = Services.build(settings)
        key = services.bootstrap()
        client = TestClient(create_app(services))
        client.headers["Authorization"] = f"Bearer {key}"
        run_id = client.post(
            "/api/cells/test-echo/run",
            json={"input": {"type": "bytes", "encoding": "base64", "content": "dHJhY2U="}},
        ).json()["runId"]
        assert services.executor("t").execute(run_id) == "done"  # the worker's side
        finished = exporter.get_finished_spans()
        by_id = {s.context.span_id: s for s in finished}
        (request,) = [s for s in finished if s.parent is None and s.name.startswith("POST ")]
        run = next(s for s in finished if s.name == "run test-echo")
        cell = next(s for s in finished if s.name == "cell test-echo")

        def ancestors(span: object) -> list[int]:
            found, parent = [], getattr(span, "parent", None)
            while parent is not None:
                found.append(parent.span_id)
                parent = getattr(by_id.get(parent.span_id), "parent", None)
            return found

        assert request.name == "POST /api/cells/{cell_id}/run"
        assert request.context.span_id in ancestors(run)  # across the queue, via the row
        assert run.context.trace_id == request.context.trace_id
        assert cell.parent is not None and cell.parent.span_id == run.context.span_id
        assert run.attributes is not None and run.attributes["run_id"] == run_id
        services.close()
    finally:
        tracing._enabled = False
