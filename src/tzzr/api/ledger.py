"""FELDMAN over HTTP: `POST /consolidate`, blocks, checkpoints, proofs, receipts, keys."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import require, services
from tzzr.errors import NotFound
from tzzr.feldman import receipts as receipt
from tzzr.feldman.signing import origin
from tzzr.keys import Principal
from tzzr.times import rfc3339, rfc3339_or_none
from tzzr.types import PositiveInt32, PositiveInt64

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post("/consolidate", summary="Seal every pending leaf into a new block")
async def consolidate(request: Request, principal: Admin) -> dict[str, Any]:
    ledger = services(request).ledger
    block = await run_in_threadpool(ledger.seal, principal.instance)
    if block is None:
        return {"block": None, "message": "nothing to seal: no leaves are pending"}
    return {"block": block.as_json()}


@router.get("/bloques", summary="Blocks, newest first")
def list_blocks(
    request: Request,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: PositiveInt32 | None = None,
) -> dict[str, Any]:
    blocks = services(request).ledger.blocks(principal.instance, limit, before)
    return {"blocks": [b.as_json() for b in blocks]}


@router.get("/bloque/{number}", summary="One block")
def get_block(request: Request, principal: Reader, number: PositiveInt32) -> dict[str, Any]:
    return services(request).ledger.block(principal.instance, number).as_json()


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP signed note)",
    response_class=PlainTextResponse,
)
def get_checkpoint(request: Request, principal: Reader) -> PlainTextResponse:
    latest = services(request).ledger.latest(principal.instance)
    if latest is None:
        raise NotFound("nothing is sealed yet; POST /consolidate or wait for the next block")
    return PlainTextResponse(latest.checkpoint)


@router.get("/proof/{h_entrada}", summary="Inclusion proof of an entry")
def get_proof(
    request: Request,
    principal: Reader,
    h_entrada: str,
    tree_size: PositiveInt64 | None = None,
) -> dict[str, Any]:
    found = services(request)
    entry = found.entries.get(principal.instance, h_entrada)
    index = found.ledger.leaf_index(principal.instance, entry["h_entrada"])
    return found.ledger.inclusion(principal.instance, index, tree_size).as_json()


@router.get("/consistency", summary="Consistency proof between two sealed tree sizes")
def get_consistency(
    request: Request,
    principal: Reader,
    first: PositiveInt64,
    second: PositiveInt64,
) -> dict[str, Any]:
    proof, one, two = services(request).ledger.consistency(principal.instance, first, second)
    return {
        "first": first,
        "second": second,
        "first_root": one.tree_root,
        "second_root": two.tree_root,
        "proof": [p.hex() for p in proof],
    }


@router.get("/receipt/{h_entrada}", summary="A self-contained receipt (verify with tzzr verify)")
def get_receipt(
    request: Request,
    principal: Reader,
    h_entrada: str,
    tree_size: PositiveInt64 | None = None,
) -> dict[str, Any]:
    found = services(request)
    entry = found.entries.get(principal.instance, h_entrada)
    return receipt.build(found.ledger, entry, principal.instance, tree_size)


@router.get("/ledger/key", summary="The instance's checkpoint signing keys")
def get_keys(request: Request, principal: Reader) -> dict[str, Any]:
    ledger = services(request).ledger
    keys = ledger.keys.public_keys(principal.instance)
    if not keys:
        ledger.keys.current(principal.instance)  # created on first use
        keys = ledger.keys.public_keys(principal.instance)
    return {
        "origin": origin(principal.instance),
        "keys": [
            {
                "key_id": k.key_id,
                "verifier_key": k.verifier_key,
                "created_at": rfc3339(k.created_at),
                "retired_at": rfc3339_or_none(k.retired_at),
            }
            for k in keys
        ],
    }
