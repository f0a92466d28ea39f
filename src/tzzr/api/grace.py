"""GRACE over HTTP, in RunPod serverless's shapes (`{"input": envelope}` →
`{"id", "status", "output"}`), and the KnowledgeCell registry (`/api/cells`)."""

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from tzzr.api.deps import body_schema, parse_body, require, require_stored_read, services
from tzzr.api.slots import runsync_slots
from tzzr.cells import Cell
from tzzr.cells.envelope import RunRequest
from tzzr.cells.grace import execute
from tzzr.cells.limits import payload_loader
from tzzr.keys import Principal

router = APIRouter()
Runner = Annotated[Principal, Depends(require("ingest"))]
Reader = Annotated[Principal, Depends(require("read"))]


def cell_json(cell: Cell) -> dict[str, Any]:
    return {**cell.meta.as_json(), "module": cell.module, "accepts": sorted(cell.accepts)}


@router.post(
    "/grace/runsync",
    summary="Run a cell and wait for its result (contract 2.1)",
    openapi_extra=body_schema(RunRequest),
)
async def runsync(request: Request, principal: Runner) -> JSONResponse:
    found = services(request)
    body = await parse_body(request, RunRequest)
    require_stored_read(principal, body.input.payload.encoding)
    store = found.ingest.store_for(principal.instance)
    answer = await runsync_slots(request).run(
        functools.partial(
            execute,
            found.cells,
            body.input,
            payload_loader(found.cells, store, found.settings.cell_max_input_bytes),
            body.id,
        )
    )
    return JSONResponse(answer)


@router.get("/grace/health", summary="GRACE's modules")
def health(request: Request, principal: Reader) -> dict[str, Any]:
    return {"status": "ok", "contract_version": "2.1", "modules": services(request).cells.modules}


@router.get("/api/cells", summary="Registered cells (KnowledgeCell metadata)")
def list_cells(request: Request, principal: Reader) -> dict[str, Any]:
    cells = services(request).catalog.cells(principal.instance.h_instancia)
    return {"cells": [cell_json(c) for c in cells]}


@router.get("/api/cells/{cell_id}", summary="One cell")
def get_cell(request: Request, principal: Reader, cell_id: str) -> dict[str, Any]:
    catalog = services(request).catalog
    h_instancia = principal.instance.h_instancia
    return {
        **cell_json(catalog.get(h_instancia, cell_id)),
        "versions": [c.meta.version for c in catalog.versions(h_instancia, cell_id)],
    }
