"""PACKET's tus 1.0.0 endpoint at /uploads (core, creation, creation-with-upload,
expiration, termination, checksum), for the key's instance (role ingest).

Every answer carries Tus-Resumable, errors included (problem+json like every route, with
the tus headers); `GET /uploads/{upload_id}` answers JSON for pages. docs/packet.md."""

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from tzzr.api.deps import require, services
from tzzr.errors import TooLarge, TzzrError, Unauthorized, UnsupportedMediaType
from tzzr.keys import Principal
from tzzr.uploads import protocol
from tzzr.uploads.protocol import Locked, PreconditionFailed
from tzzr.uploads.service import Patch, UploadInfo, Uploads
from tzzr.validation import request_invalid

BUFFER = 1024 * 1024  # bytes gathered from the socket before one write (and hash) in a thread
LOCK_WAIT = 10.0


def _tus_headers() -> dict[str, str]:
    return {"Tus-Resumable": protocol.VERSION}


class TusRoute(APIRoute):
    """Errors answered here, not by the app's handlers, so they carry the tus headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except TzzrError as exc:
                headers = _tus_headers()
                if isinstance(exc, PreconditionFailed):
                    headers["Tus-Version"] = protocol.VERSION
                if isinstance(exc, Unauthorized):
                    headers["WWW-Authenticate"] = "Bearer"
                if exc.retry_after is not None:
                    headers["Retry-After"] = str(exc.retry_after)
                response = JSONResponse(exc.body(), status_code=exc.status, headers=headers)
            except RequestValidationError as exc:
                error = request_invalid(exc)
                body: dict[str, Any] = {"code": "invalid", "message": error.message}
                if error.field:
                    body["field"] = error.field
                response = JSONResponse({"error": body}, status_code=422, headers=_tus_headers())
            response.headers["Tus-Resumable"] = protocol.VERSION
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return answer


router = APIRouter(route_class=TusRoute)
# One PATCH at a time per upload in this process; HEAD waits for it to settle the offset.
_locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()


def _lock(upload_id: str) -> asyncio.Lock:
    lock = _locks.get(upload_id)
    if lock is None:
        lock = asyncio.Lock()
        _locks[upload_id] = lock
    return lock


def _uploads(request: Request) -> Uploads:
    found: Uploads = services(request).uploads
    return found


def _check_tus(request: Request) -> None:
    protocol.check_version(request.headers.get("tus-resumable"))


def _state_headers(info: UploadInfo) -> dict[str, str]:
    headers = {
        "Upload-Offset": str(info.offset),
        "Upload-Length": str(info.length),
        "Upload-Expires": protocol.http_date(info.expires_at),
    }
    if info.complete and info.sha256:
        headers["Tzzr-Sha256"] = info.sha256
    return headers


def _offset_body(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != protocol.OFFSET_TYPE:
        raise UnsupportedMediaType(
            f"send the bytes with 'Content-Type: {protocol.OFFSET_TYPE}' (got {kind or 'none'!r})",
            field="Content-Type",
        )
    return True


def _declared_length(request: Request, remaining: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.strip().isdigit() and int(declared) > remaining:
        raise TooLarge(
            f"Content-Length {declared} goes past Upload-Length: {remaining} bytes remain",
            field="Content-Length",
        )


async def _receive(request: Request, patch: Patch, checksum: bytes | None) -> UploadInfo:
    """Stream the body into the upload in bounded buffers, each written and hashed in a
    thread; a cut connection keeps what was received (tus core)."""
    if checksum is not None:
        patch.expect_checksum()
    stream: AsyncIterator[bytes] = request.stream()
    chunks: list[bytes] = []  # joined once per BUFFER: one copy of each byte, not two
    size = 0
    try:
        async for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size >= BUFFER:
                data, chunks, size = b"".join(chunks), [], 0
                await run_in_threadpool(patch.write, data)
        if chunks:
            await run_in_threadpool(patch.write, b"".join(chunks))
    except ClientDisconnect:
        if chunks:
            await run_in_threadpool(patch.write, b"".join(chunks))
        await run_in_threadpool(patch.keep)
        raise
    except BaseException:
        await run_in_threadpool(patch.abort)
        raise
    return await run_in_threadpool(patch.finish, checksum)


@router.options("/uploads", summary="tus: what this server supports")
def options(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))]
) -> Response:
    settings = services(request).settings
    return Response(
        status_code=204,
        headers={
            "Tus-Version": protocol.VERSION,
            "Tus-Extension": protocol.EXTENSIONS,
            "Tus-Max-Size": str(settings.max_file_bytes),
            "Tus-Checksum-Algorithm": protocol.CHECKSUM_ALGORITHMS,
        },
    )


@router.post("/uploads", summary="tus creation (and creation-with-upload)", status_code=201)
async def create(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))]
) -> Response:
    _check_tus(request)
    uploads = _uploads(request)
    length = protocol.parse_length(request.headers.get("upload-length"), "Upload-Length")
    if request.headers.get("upload-defer-length") is not None:
        raise TzzrError(
            "Upload-Defer-Length is not supported: send Upload-Length", field="Upload-Length"
        )
    meta = protocol.parse_metadata(request.headers.get("upload-metadata"))
    checksum = protocol.parse_checksum(request.headers.get("upload-checksum"))
    with_body = bool(request.headers.get("content-type")) and _offset_body(request)
    if with_body:
        _declared_length(request, length)
    info = await run_in_threadpool(uploads.create, principal.instance, length, meta)
    headers = {"Location": f"/uploads/{info.id}", **_state_headers(info)}
    if with_body and not info.complete:
        async with _lock(info.id):
            patch = await run_in_threadpool(uploads.patch, principal.instance, info.id, 0)
            try:
                info = await _receive(request, patch, checksum)
            except ClientDisconnect:
                return Response(status_code=201, headers=headers)
            except TzzrError as exc:
                # The upload exists: tell the client where, with the error, so it can resume.
                return JSONResponse(
                    exc.body(), status_code=exc.status, headers={**headers, **_tus_headers()}
                )
        headers = {"Location": f"/uploads/{info.id}", **_state_headers(info)}
    return Response(status_code=201, headers=headers)


@router.head("/uploads/{upload_id}", summary="tus: an upload's offset")
async def head(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> Response:
    _check_tus(request)
    uploads = _uploads(request)
    lock = _lock(upload_id)
    try:  # a PATCH in flight (its client may be gone) settles the offset first
        await asyncio.wait_for(lock.acquire(), LOCK_WAIT)
        lock.release()
    except TimeoutError:
        pass
    info = await run_in_threadpool(uploads.current, principal.instance, upload_id)
    return Response(status_code=200, headers=_state_headers(info))


@router.get("/uploads/{upload_id}", summary="An upload's state (JSON, for pages)")
async def status(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> JSONResponse:
    uploads = _uploads(request)
    info = await run_in_threadpool(uploads.get, principal.instance, upload_id)
    if not info.expired(uploads.now()):
        info = await run_in_threadpool(uploads.current, principal.instance, upload_id)
    body = info.as_json()
    body["expired"] = info.expired(uploads.now())
    return JSONResponse(body, headers=_state_headers(info))


@router.patch("/uploads/{upload_id}", summary="tus: append bytes at the upload's offset")
async def patch(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> Response:
    _check_tus(request)
    uploads = _uploads(request)
    _offset_body(request)
    offset = protocol.parse_length(request.headers.get("upload-offset"), "Upload-Offset")
    checksum = protocol.parse_checksum(request.headers.get("upload-checksum"))
    lock = _lock(upload_id)
    try:
        await asyncio.wait_for(lock.acquire(), LOCK_WAIT)
    except TimeoutError:
        raise Locked(
            f"another PATCH of upload {upload_id} is still being written; retry shortly",
            field="upload_id",
            retry_after=1,
        ) from None
    try:
        found = await run_in_threadpool(uploads.patch, principal.instance, upload_id, offset)
        try:
            _declared_length(request, found.info.length - offset)
        except TooLarge:
            await run_in_threadpool(found.abort)
            raise
        try:
            info = await _receive(request, found, checksum)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it: the client is gone
    finally:
        lock.release()
    return Response(status_code=204, headers=_state_headers(info))


@router.delete("/uploads/{upload_id}", summary="tus termination: the upload and its bytes")
async def terminate(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> Response:
    _check_tus(request)
    uploads = _uploads(request)
    async with _lock(upload_id):
        await run_in_threadpool(uploads.terminate, principal.instance, upload_id)
    return Response(status_code=204)
