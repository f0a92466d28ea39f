"""What is truly server-wide, for operator keys only (made with `tzzr keys create
--operator`, never over HTTP): the instances, the shipped flows installed everywhere,
alerts and events about the whole server, and the settings in force (no secrets)."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import require_operator, services
from tzzr.keys import Operator
from tzzr.sentinel.events import MAX_LIMIT, query
from tzzr.states import AlertState
from tzzr.times import rfc3339
from tzzr.types import PositiveInt64

router = APIRouter(prefix="/operator")
Op = Annotated[Operator, Depends(require_operator())]
# What an operator may read back: an allowlist, so a new setting (a URL with a password,
# a token) stays hidden until someone decides it is safe. URLs lose any user:password.
SHOWN_SETTINGS = (
    "home",
    "blob_url",
    "s3_endpoint_url",
    "s3_region",
    "host",
    "port",
    "public_url",
    "max_file_bytes",
    "max_request_bytes",
    "max_json_body_bytes",
    "max_metadata_bytes",
    "max_files",
    "gc_grace_seconds",
    "key_cache_seconds",
    "block_interval",
    "publish_tiles",
    "asr_model_dir",
    "asr_device",
    "cell_max_input_bytes",
    "ocr_max_pixels",
    "asr_max_seconds",
    "queue_name",
    "worker_concurrency",
    "embedded_worker",
    "run_timeout_seconds",
    "run_lease_seconds",
    "run_max_attempts",
    "run_retry_seconds",
    "enrich_window",
    "log_format",
    "otel_exporter",
    "remote_allow_hosts",
    "alert_interval",
    "alert_window_seconds",
    "alert_failure_rate",
    "alert_queue_lag_seconds",
    "alert_latency_ms",
    "alert_disk_free_ratio",
    "event_retention_days",
    "auth_fail_limit",
    "key_rate_limit",
    "runsync_concurrency",
    "runsync_timeout_seconds",
)
USERINFO = re.compile(r"(?<=://)[^/@]*@")


@router.get("/instances", summary="The instances of this server (operator)")
def list_instances(request: Request, operator: Op) -> dict[str, Any]:
    return {
        "instances": [
            {
                "name": info.name,
                "h_instancia": info.h_instancia,
                "createdAt": rfc3339(info.created_at),
            }
            for info in services(request).instances.list()
        ]
    }


@router.post(
    "/flows/install-defaults",
    summary="Copy the shipped flows into every instance that never had them (operator)",
)
async def install_default_flows(request: Request, operator: Op) -> dict[str, Any]:
    installed = await run_in_threadpool(services(request).install_default_flows)
    return {"installed": installed}


@router.get("/alerts", summary="Alerts about the whole server (operator)")
def server_alerts(request: Request, operator: Op, state: str | None = None) -> dict[str, Any]:
    return {"alerts": services(request).alerts.query(None, state)}


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge a server alert (operator)")
def acknowledge(request: Request, operator: Op, alert_id: PositiveInt64) -> dict[str, Any]:
    return services(request).alerts.change(None, alert_id, AlertState.ACKNOWLEDGED)


@router.post("/alerts/{alert_id}/resolve", summary="Resolve a server alert (operator)")
def resolve(request: Request, operator: Op, alert_id: PositiveInt64) -> dict[str, Any]:
    return services(request).alerts.change(None, alert_id, AlertState.RESOLVED)


@router.get("/events", summary="Events about the whole server, newest first (operator)")
def server_events(
    request: Request,
    operator: Op,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    found, next_cursor = query(
        services(request).engine, None, kind=kind, limit=limit, cursor=cursor
    )
    return {"events": found, "next_cursor": next_cursor}


@router.get("/settings", summary="The settings in force, secrets left out (operator)")
def settings(request: Request, operator: Op) -> dict[str, Any]:
    values = services(request).settings.model_dump(mode="json")
    return {
        "settings": {
            name: USERINFO.sub("", values[name]) if isinstance(values[name], str) else values[name]
            for name in SHOWN_SETTINGS
            if name in values
        }
    }
