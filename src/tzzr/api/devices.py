"""PACKET's devices: the key that signs in registers its browser's public key; captures
it signs are checked at ingest and sealed with their signature (docs/packet.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body, require, services
from tzzr.devices.registry import Registration
from tzzr.keys import Principal

router = APIRouter()
Capturer = Annotated[Principal, Depends(require("ingest"))]
Reader = Annotated[Principal, Depends(require("read"))]
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post(
    "/devices",
    summary="Register this device's public key (201; 200 when it is registered already)",
    status_code=201,
    openapi_extra=body_schema(Registration),
)
async def register_device(request: Request, principal: Capturer) -> JSONResponse:
    registration = await parse_body(request, Registration)
    device, created = await run_in_threadpool(
        services(request).devices.register, principal.instance, registration
    )
    return JSONResponse(
        device.as_json(),
        status_code=201 if created else 200,
        headers={"Location": f"/devices/{device.id}"},
    )


@router.get("/devices", summary="The instance's devices, revoked ones included")
def list_devices(request: Request, principal: Reader) -> dict[str, Any]:
    found = services(request).devices.list(principal.instance)
    return {"devices": [device.as_json() for device in found]}


@router.get("/devices/{device_id}", summary="A device")
def get_device(request: Request, principal: Reader, device_id: str) -> dict[str, Any]:
    return services(request).devices.get(principal.instance, device_id).as_json()


@router.delete(
    "/devices/{device_id}",
    summary="Revoke a device (admin): it signs no new captures; its signatures stay verifiable",
)
def revoke_device(request: Request, principal: Admin, device_id: str) -> dict[str, Any]:
    return services(request).devices.revoke(principal.instance, device_id).as_json()
