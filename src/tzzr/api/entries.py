"""`GET /entries`, `GET /entries/{h_entrada}`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tzzr.api.deps import require, services
from tzzr.entries import MAX_LIMIT
from tzzr.keys import Principal
from tzzr.types import UtcDatetime

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
AnyKey = Annotated[Principal, Depends(require("key"))]


@router.get("/whoami", summary="The key's instance and role (any key of an instance)")
def whoami(principal: AnyKey) -> dict[str, Any]:
    """What a client needs to keep its captures apart by instance (the web app's outbox)."""
    return {
        "instance": principal.instance.name,
        "h_instancia": principal.instance.h_instancia,
        "role": principal.role,
        "keyId": principal.key_id,
    }


@router.get("/entries", summary="List entries, newest first")
def list_entries(
    request: Request,
    principal: Reader,
    state: str | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    media_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    entries, next_cursor = services(request).entries.list(
        principal.instance,
        state=state,
        since=since,
        until=until,
        media_type=media_type,
        limit=limit,
        cursor=cursor,
    )
    return {"entries": entries, "next_cursor": next_cursor}


@router.get("/entries/{h_entrada}", summary="One entry")
def get_entry(request: Request, principal: Reader, h_entrada: str) -> dict[str, Any]:
    return services(request).entries.get(principal.instance, h_entrada)
