"""`POST /ingest` (CLARA / MARGARET)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import require, services
from tzzr.api.openapi import schema_ref
from tzzr.errors import TooLarge, UnsupportedMediaType
from tzzr.ingest.forms import JsonContainer, read_json, read_multipart
from tzzr.ingest.service import IngestResult
from tzzr.keys import Principal

router = APIRouter()
# The body is streamed by hand (files of any size); this only describes it.
CONTAINER = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": schema_ref(JsonContainer)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "metadata": {"type": "string", "description": "a JSON object"},
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "device": {
                            "type": "string",
                            "description": 'optional: {"id", "signature"} (JSON) of the '
                            "registered device that signed the capture's address",
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "/ingest",
    summary="Ingest a container (JSON or multipart/form-data)",
    openapi_extra=CONTAINER,
)
async def ingest(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))]
) -> JSONResponse:
    found = services(request)
    settings = found.settings
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_request_bytes:
        raise TooLarge(
            f"the request is larger than the limit of {settings.max_request_bytes} bytes"
        )
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";", 1)[0].strip().lower()
    with found.ingest.builder(principal.instance) as builder:
        if kind == "application/json":
            await read_json(request.stream(), builder, settings.max_json_body_bytes)
        elif kind == "multipart/form-data":
            await read_multipart(request.stream(), content_type, builder)
        else:
            raise UnsupportedMediaType(
                f"Content-Type {kind or '(none)'!r} is not accepted: send application/json "
                "or multipart/form-data"
            )
        result: IngestResult = await run_in_threadpool(builder.finish)
    return JSONResponse(result.as_json())
