"""ALFRED and MASON over HTTP (the plan's paths): flows, `/execute`, executions, and the
enrichment window `/enrich`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body, require, require_stored_read, services
from tzzr.api.openapi import schema_ref
from tzzr.flows import spec as flow_spec
from tzzr.flows.engine import execution_json
from tzzr.flows.store import flow_json
from tzzr.ingest.forms import read_limited
from tzzr.keys import Principal
from tzzr.runs.service import RunInput
from tzzr.states import ExecutionStatus
from tzzr.types import PositiveInt32

router = APIRouter()
Runner = Annotated[Principal, Depends(require("ingest"))]
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]
MAX_FLOW_BYTES = 256 * 1024
YAML_OR_JSON = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref(flow_spec.FlowSpec)},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def _spec(request: Request) -> flow_spec.FlowSpec:
    raw = await read_limited(request.stream(), MAX_FLOW_BYTES)
    return flow_spec.load(raw, request.headers.get("content-type"))


@router.get("/flows", summary="Flows (the newest version of each)")
def list_flows(request: Request, principal: Reader) -> dict[str, Any]:
    flows = services(request).flows.live(principal.instance.h_instancia)
    return {"flows": [flow_json(row) for row in flows]}


@router.post(
    "/flows",
    summary="Create a flow (admin; JSON or YAML)",
    status_code=201,
    openapi_extra=YAML_OR_JSON,
)
async def create_flow(request: Request, principal: Admin) -> JSONResponse:
    spec = await _spec(request)
    row = await run_in_threadpool(
        services(request).flows.create, principal.instance.h_instancia, spec
    )
    return JSONResponse(flow_json(row), status_code=201, headers={"Location": f"/flows/{spec.id}"})


@router.get("/flows/{flow_id}", summary="A flow (?version= for an older one)")
def get_flow(
    request: Request, principal: Reader, flow_id: str, version: PositiveInt32 | None = None
) -> dict[str, Any]:
    return flow_json(services(request).flows.get(principal.instance.h_instancia, flow_id, version))


@router.put(
    "/flows/{flow_id}", summary="A new version of a flow (admin)", openapi_extra=YAML_OR_JSON
)
async def update_flow(request: Request, principal: Admin, flow_id: str) -> dict[str, Any]:
    spec = await _spec(request)
    row = await run_in_threadpool(
        services(request).flows.update, principal.instance.h_instancia, flow_id, spec
    )
    return flow_json(row)


@router.delete(
    "/flows/{flow_id}", summary="Delete a flow (admin; its history stays)", status_code=204
)
def delete_flow(request: Request, principal: Admin, flow_id: str) -> Response:
    services(request).flows.delete(principal.instance.h_instancia, flow_id)
    return Response(status_code=204)


class ExecuteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: str = Field(min_length=1, max_length=64)
    h_entrada: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    input: RunInput | None = None


@router.post(
    "/execute",
    summary="Run a flow on an entry or an input",
    status_code=202,
    openapi_extra=body_schema(ExecuteBody),
)
async def execute(request: Request, principal: Runner) -> JSONResponse:
    body = await parse_body(request, ExecuteBody)
    require_stored_read(principal, body.input.encoding if body.input else None, body.h_entrada)
    found = services(request)
    execution_id = await run_in_threadpool(
        found.alfred.start,
        principal.instance,
        body.flow,
        body.h_entrada,
        body.input,
        found.ingest.store_for(principal.instance),
    )
    return JSONResponse(
        {"executionId": execution_id, "status": ExecutionStatus.QUEUED},
        status_code=202,
        headers={"Location": f"/executions/{execution_id}"},
    )


@router.get("/executions", summary="Executions, newest first (the plan's flujo_ejecuciones)")
def list_executions(
    request: Request,
    principal: Reader,
    flow: str | None = None,
    status: str | None = None,
    h_entrada: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows = services(request).alfred.list(principal.instance, flow, status, h_entrada, limit)
    return {"executions": [execution_json(row) for row in rows]}


@router.get("/executions/{execution_id}", summary="An execution: steps, outputs, decision")
def get_execution(request: Request, principal: Reader, execution_id: str) -> dict[str, Any]:
    return execution_json(services(request).alfred.get(principal.instance, execution_id))


@router.get("/enrich", summary="Items in the enrichment window (?state=pending)")
def list_enrich(
    request: Request,
    principal: Reader,
    state: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"items": services(request).mason.list(principal.instance, state, limit)}


@router.get("/enrich/{h_entrada}", summary="An item: entry, results, schema, deadline")
def get_enrich(request: Request, principal: Reader, h_entrada: str) -> dict[str, Any]:
    found = services(request)
    entry = found.entries.get(principal.instance, h_entrada)
    return found.mason.get(principal.instance, h_entrada, entry)


class EnrichBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Any]


@router.put(
    "/enrich/{h_entrada}",
    summary="Enrich an item (validated; kept as history)",
    openapi_extra=body_schema(EnrichBody),
)
async def put_enrich(request: Request, principal: Runner, h_entrada: str) -> dict[str, Any]:
    body = await parse_body(request, EnrichBody)
    found = services(request)
    await run_in_threadpool(found.entries.get, principal.instance, h_entrada)
    done = await run_in_threadpool(
        found.mason.enrich, principal.instance, h_entrada, body.fields, principal.key_id
    )
    if not principal.can("read"):  # the item itself is for readers
        return {k: done[k] for k in ("h_entrada", "state", "fieldsHash", "leafIndex") if k in done}
    return done
