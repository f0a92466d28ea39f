"""`GET /entries`, `GET /entries/{h_entrada}`."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tzzr.api.deps import require, services
from tzzr.entries import MAX_LIMIT
from tzzr.keys import Principal

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]


@router.get("/entries", summary="List entries, newest first")
def list_entries(
    request: Request,
    principal: Reader,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
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
