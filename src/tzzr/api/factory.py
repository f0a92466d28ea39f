"""THE FACTORY over HTTP: `POST /factory/refine` (a job of rounds), the refinements and
their rounds, and a person's accept or reject of each item of the last round.

Roles: `read` to look, `admin` to start a refinement and to decide its items (an
accepted item writes a milestone or an action into the instance's vision)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body, require, services
from tzzr.api.vision_common import receipt
from tzzr.factory.service import RefineBody
from tzzr.keys import Principal
from tzzr.states import JobStatus
from tzzr.types import PositiveInt32

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post(
    "/factory/refine",
    summary="Refine a vision (milestones and actions) or specialise a cell in rounds (a job)",
    status_code=202,
    openapi_extra=body_schema(RefineBody),
)
async def refine(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, RefineBody)
    factory = services(request).factory
    job_id = await run_in_threadpool(factory.refine, principal.instance, body)
    where = f"/factory/jobs/{job_id}"
    return JSONResponse(
        {
            "jobId": job_id,
            "status": JobStatus.QUEUED,
            "planner": factory.planner_name,
            "statusUrl": where,
        },
        status_code=202,
        headers={"Location": where},
    )


@router.get("/factory/jobs", summary="The instance's refinements, newest first")
def list_refinements(
    request: Request,
    principal: Reader,
    vision: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    found = services(request).factory.list(principal.instance, vision)
    return {"items": found}


@router.get(
    "/factory/jobs/{job_id}", summary="A refinement: its status, rounds, items and decisions"
)
def get_refinement(request: Request, principal: Reader, job_id: str) -> dict[str, Any]:
    return services(request).factory.get(principal.instance, job_id)


@router.get(
    "/factory/jobs/{job_id}/rounds/{number}/receipt",
    summary="The ledger proof of a round's attestation, with the record it seals",
)
def round_receipt(
    request: Request, principal: Reader, job_id: str, number: PositiveInt32
) -> dict[str, Any]:
    factory = services(request).factory
    leaf, record = factory.attested(principal.instance, job_id, number)
    # the record the leaf's hash seals, sealed yet or not: sha256 of its canonical JSON
    return {**receipt(request, principal, leaf, f"round {number} of {job_id}"), "record": record}


@router.post(
    "/factory/jobs/{job_id}/items/{item_id}/accept",
    summary="Accept an item of the last round: it becomes a milestone or an action",
)
def accept_item(request: Request, principal: Admin, job_id: str, item_id: str) -> dict[str, Any]:
    return services(request).factory.decide(principal.instance, job_id, item_id, True)


@router.post(
    "/factory/jobs/{job_id}/items/{item_id}/reject",
    summary="Reject an item of the last round (nothing is written into the vision)",
)
def reject_item(request: Request, principal: Admin, job_id: str, item_id: str) -> dict[str, Any]:
    return services(request).factory.decide(principal.instance, job_id, item_id, False)
