"""`GET /search`: entries found by what is known about them (docs/search.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from tzzr.api.deps import require, services
from tzzr.keys import Principal
from tzzr.search.find import MAX_LIMIT, Filters
from tzzr.types import UtcDatetime

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]


@router.get("/search", summary="Find entries by their text, fields and decisions")
def search(
    request: Request,
    principal: Reader,
    q: Annotated[str | None, Query(max_length=500)] = None,
    state: str | None = None,
    media_type: str | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    min_total: float | None = None,
    max_total: float | None = None,
    flow: str | None = None,
    decision: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Words match the start of words ("panad" finds "Panadería"), "quoted phrases"
    match in order, -words are left out; case and accents never matter. Results are
    ranked (the title counts more than the rest), newest first among equals and when
    there is no `q`; each has a `snippet` (HTML: the text escaped, matches in <mark>)."""
    filters = Filters(
        state=state,
        media_type=media_type,
        since=since,
        until=until,
        min_total=min_total,
        max_total=max_total,
        flow=flow,
        decision=decision,
    )
    return services(request).search.search(
        principal.instance, q, filters, limit=limit, cursor=cursor
    )
