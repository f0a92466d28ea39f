"""Runs and cells over HTTP (the TAMV blueprint): `POST /api/cells/{id}/run`,
`GET /api/runs/{runId}`, cancel, the cell's health, metrics and logs, admin
registration of remote cells, and GRACE's asynchronous `/grace/run` + `/grace/status`."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body, require, require_stored_read, services
from tzzr.api.grace import cell_json
from tzzr.api.headers import stored_content_headers
from tzzr.cells.envelope import RunRequest
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.specialize import SpecializeBody
from tzzr.errors import InvalidInput
from tzzr.keys import Principal
from tzzr.runs import notify
from tzzr.runs.service import TERMINAL, RunBody, RunInput, run_json
from tzzr.states import JobStatus, RunStatus
from tzzr.validation import first_error

router = APIRouter()
Runner = Annotated[Principal, Depends(require("ingest"))]
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post(
    "/api/cells/{cell_id}/run",
    summary="Queue a run of a cell",
    status_code=202,
    openapi_extra=body_schema(RunBody),
)
async def run_cell(request: Request, principal: Runner, cell_id: str) -> JSONResponse:
    body = await parse_body(request, RunBody)
    require_stored_read(principal, body.input.encoding if body.input else None)
    found = services(request)
    submitted = await run_in_threadpool(found.runs.submit, principal.instance, cell_id, body)
    return JSONResponse(
        {"runId": submitted.run_id, "status": submitted.status},
        status_code=202 if submitted.created else 200,
        headers={"Location": f"/api/runs/{submitted.run_id}"},
    )


@router.get("/api/runs", summary="Runs of this instance, newest first")
def list_runs(
    request: Request,
    principal: Reader,
    cell: str | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows = services(request).runs.list(principal.instance, cell, status, limit)
    return {"runs": [run_json(row) for row in rows]}


@router.get("/api/runs/{run_id}", summary="A run: status, resultUrl, metrics, error")
async def get_run(
    request: Request,
    principal: Reader,
    run_id: str,
    wait: Annotated[float, Query(ge=0, le=60)] = 0,
) -> dict[str, Any]:
    """With `?wait=S`, answer when the run has ended or after S seconds, whichever is
    first: no polling loop on the client. The worker that ends the run wakes the wait
    (runs/notify.py); the run is read again at least every second in case a
    notification was lost."""
    found = services(request)
    row = await run_in_threadpool(found.runs.get, principal.instance, run_id)
    if wait <= 0 or row.status in TERMINAL:
        return run_json(row)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    notifier = notify.for_settings(found.settings)
    with notifier.watch(principal.instance.h_instancia, row.id) as ended:
        while True:  # read after watching: an end in between is not missed
            row = await run_in_threadpool(found.runs.get, principal.instance, run_id)
            left = deadline - loop.time()
            if row.status in TERMINAL or left <= 0 or await request.is_disconnected():
                return run_json(row)
            await notifier.wait(ended, min(left, notify.FALLBACK_SECONDS))


@router.get("/api/runs/{run_id}/result", summary="A finished run's result (JSON)")
def get_result(request: Request, principal: Reader, run_id: str) -> Response:
    data = services(request).runs.result(principal.instance, run_id)
    return Response(data, media_type="application/json")


@router.post("/api/runs/{run_id}/cancel", summary="Cancel a queued or running run")
def cancel_run(request: Request, principal: Runner, run_id: str) -> dict[str, Any]:
    row = services(request).runs.cancel(principal.instance, run_id)
    if not principal.can("read"):
        return {"runId": row.id, "status": row.status}  # the run itself is for readers
    return run_json(row)


@router.get("/api/cells/{cell_id}/health", summary="Whether the cell can run now")
async def cell_health(request: Request, principal: Reader, cell_id: str) -> dict[str, Any]:
    cell = services(request).catalog.get(principal.instance.h_instancia, cell_id)
    check = getattr(cell, "health", None)
    health = await run_in_threadpool(check) if check is not None else {"status": "ok"}
    return {"cellId": cell.meta.id, "version": cell.meta.version, **health}


@router.get("/api/cells/{cell_id}/metrics", summary="The cell's runs: counts, latency")
def cell_metrics(request: Request, principal: Reader, cell_id: str) -> dict[str, Any]:
    return services(request).runs.cell_metrics(principal.instance, cell_id)


@router.get("/api/cells/{cell_id}/logs", summary="The cell's recent runs, as log records")
def cell_logs(
    request: Request,
    principal: Reader,
    cell_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = services(request)
    found.catalog.versions(principal.instance.h_instancia, cell_id)  # 404 for an unknown cell
    rows = found.runs.list(principal.instance, cell_id, None, limit)
    return {
        "cellId": cell_id,
        "logs": [
            {
                "ts": run["finishedAt"] or run["startedAt"] or run["createdAt"],
                "runId": run["runId"],
                "version": run["cellVersion"],
                "status": run["status"],
                "attempt": run["attempt"],
                "latencyMs": (run["metrics"] or {}).get("latencyMs"),
                "error": run["error"],
            }
            for run in map(run_json, rows)
        ],
    }


@router.get(
    "/api/cells/{cell_id}/visualization/{sample_id}",
    summary="A rendered sample of the cell (its visualizationSample)",
)
async def cell_visualization(
    request: Request, principal: Reader, cell_id: str, sample_id: str
) -> Response:
    found = services(request)
    cell = found.catalog.get(principal.instance.h_instancia, cell_id)
    data, media_type = await run_in_threadpool(
        found.visualizer.render, principal.instance.h_instancia, cell, sample_id
    )
    # a cell chose the media type (a plug-in's, not ours): the same rule as for blobs
    headers = {"Cache-Control": "private, max-age=3600"}
    headers.update(stored_content_headers(media_type, "sample"))
    return Response(data, media_type=media_type, headers=headers)


@router.post(
    "/api/cells/{cell_id}/specialize",
    summary="Specialise a cell in rounds of THE FACTORY: a new version (admin; a job)",
    status_code=202,
    openapi_extra=body_schema(SpecializeBody),
)
async def specialize_cell(request: Request, principal: Admin, cell_id: str) -> JSONResponse:
    body = await parse_body(request, SpecializeBody)
    # rounds in THE FACTORY (tzzr.factory.tune); 404 or 409 before a job is made
    factory = services(request).factory
    job_id = await run_in_threadpool(factory.specialize, principal.instance, cell_id, body)
    return JSONResponse(
        {"jobId": job_id, "status": JobStatus.QUEUED, "statusUrl": f"/api/jobs/{job_id}"},
        status_code=202,
        headers={"Location": f"/api/jobs/{job_id}"},
    )


@router.get("/api/jobs/{job_id}", summary="A job: status, progress, result")
def get_job(request: Request, principal: Reader, job_id: str) -> dict[str, Any]:
    return services(request).jobs.get(principal.instance, job_id)


class CellRegistration(KnowledgeCell):
    """`POST /api/admin/cells`: a remote cell's KnowledgeCell, its GRACE module, the
    payload types it takes, and the bearer token its GRACE wants (never shown back)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    module: str = Field(min_length=1, max_length=100)
    accepts: list[str] = Field(min_length=1)
    token: str | None = Field(default=None, max_length=512)


@router.post(
    "/api/admin/cells",
    summary="Register a remote cell (admin)",
    status_code=201,
    openapi_extra=body_schema(CellRegistration),
)
async def register_cell(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, CellRegistration)
    meta = KnowledgeCell.model_validate(
        body.model_dump(by_alias=True, exclude={"module", "accepts", "token"})
    )
    cell = await run_in_threadpool(
        services(request).catalog.register,
        principal.instance.h_instancia,
        meta,
        body.module,
        body.accepts,
        token=body.token,
    )
    return JSONResponse(
        cell_json(cell), status_code=201, headers={"Location": f"/api/cells/{meta.id}"}
    )


# -- GRACE, asynchronous (RunPod's /run and /status shapes) --------------------------
GRACE_STATUS: dict[str, str] = {
    RunStatus.QUEUED: "IN_QUEUE",
    RunStatus.RUNNING: "IN_PROGRESS",
    RunStatus.DONE: "COMPLETED",
    RunStatus.FAILED: "FAILED",
    RunStatus.CANCELLED: "CANCELLED",
    RunStatus.TIMED_OUT: "TIMED_OUT",
}


@router.post(
    "/grace/run", summary="Queue a contract 2.1 envelope", openapi_extra=body_schema(RunRequest)
)
async def grace_run(request: Request, principal: Runner) -> JSONResponse:
    body = await parse_body(request, RunRequest)
    require_stored_read(principal, body.input.payload.encoding)
    found = services(request)
    envelope = body.input
    cell = found.cells.module(envelope.routing.module)
    try:
        run = RunBody(
            run_id=body.id,
            input=RunInput(
                type=envelope.payload.type,
                encoding=envelope.payload.encoding,
                content=envelope.payload.content,
                media_type=envelope.payload.media_type,
                lang=envelope.context.lang,
            ),
            params=envelope.params,
        )
    except ValidationError as exc:  # the envelope's fields, as a run's: name the envelope's
        first = first_error(exc)
        top = str(first.loc[0]) if first.loc else ""
        where = {"runId": "id", "run_id": "id"}.get(top, "input.payload")
        raise InvalidInput(first.message, field=where) from exc
    submitted = await run_in_threadpool(found.runs.submit, principal.instance, cell.meta.id, run)
    return JSONResponse({"id": submitted.run_id, "status": GRACE_STATUS[submitted.status]})


@router.get("/grace/status/{run_id}", summary="A queued envelope's status and output")
def grace_status(request: Request, principal: Reader, run_id: str) -> dict[str, Any]:
    import json

    found = services(request)
    row = found.runs.get(principal.instance, run_id)
    answer: dict[str, Any] = {"id": row.id, "status": GRACE_STATUS[row.status]}
    if row.status == RunStatus.DONE:
        result = json.loads(found.runs.result(principal.instance, run_id))
        answer["executionTime"] = (row.metrics or {}).get("latencyMs")
        answer["output"] = {"status": "ok", "result": result, "metrics": row.metrics}
    elif row.error:
        answer["error"] = row.error.get("message")
        answer["output"] = {"status": "error", "error": row.error}
    return answer
