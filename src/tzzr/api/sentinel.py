"""SENTINEL over HTTP: events, alerts, and `/metrics`."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import require, require_operator, services
from tzzr.api.roles import ROLE_KEY
from tzzr.errors import Unauthorized
from tzzr.keys import Principal
from tzzr.sentinel.events import MAX_LIMIT, query
from tzzr.sentinel.metrics import CONTENT_TYPE
from tzzr.states import AlertState
from tzzr.types import PositiveInt64, UtcDatetime

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.get("/sentinel/events", summary="Events, newest first (filters, cursor)")
def events(
    request: Request,
    principal: Reader,
    kind: str | None = None,
    severity: str | None = None,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    subject: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    found, next_cursor = query(
        services(request).engine,
        principal.instance.h_instancia,
        kind=kind,
        severity=severity,
        since=since,
        until=until,
        subject=subject,
        limit=limit,
        cursor=cursor,
    )
    return {"events": found, "next_cursor": next_cursor}


@router.get("/sentinel/alerts", summary="Alerts, newest first (?state=open)")
def list_alerts(request: Request, principal: Reader, state: str | None = None) -> dict[str, Any]:
    return {"alerts": services(request).alerts.query(principal.instance.h_instancia, state)}


@router.post("/sentinel/alerts/{alert_id}/acknowledge", summary="Acknowledge an alert (admin)")
def acknowledge(request: Request, principal: Admin, alert_id: PositiveInt64) -> dict[str, Any]:
    return services(request).alerts.change(
        principal.instance.h_instancia, alert_id, AlertState.ACKNOWLEDGED
    )


@router.post("/sentinel/alerts/{alert_id}/resolve", summary="Resolve an alert (admin)")
def resolve(request: Request, principal: Admin, alert_id: PositiveInt64) -> dict[str, Any]:
    return services(request).alerts.change(
        principal.instance.h_instancia, alert_id, AlertState.RESOLVED
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format; an operator key, or TZZR_METRICS_TOKEN)",
    openapi_extra={ROLE_KEY: "operator"},
)
async def metrics(request: Request) -> Response:
    """About the whole server: an operator key, or the scraper's own token when one is
    set (so a Prometheus server needs no key that could do more)."""
    found = services(request)
    token = found.settings.metrics_token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    scraper = (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip(), token or "")
    )
    if not scraper:
        try:
            await require_operator()(request)
        except Unauthorized as exc:
            hint = " or 'Bearer <TZZR_METRICS_TOKEN>'" if token else ""
            raise Unauthorized(f"{exc.message}; /metrics takes an operator key{hint}") from exc
    body = await run_in_threadpool(request.app.state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
