"""PACKET's tus 1.0.0 endpoint at /uploads (core, creation, creation-with-upload,
expiration, termination, checksum), for the key's instance (role ingest).

Every answer carries Tus-Resumable, errors included (problem+json like every route, with
the tus headers); `GET /uploads/{upload_id}` answers JSON for pages. docs/packet.md."""

import asyncio
import contextlib
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
IDLE_SECONDS = 30.0


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


class _Reader:
    """The request reading an upload's body now. A phone that changed networks leaves its
    old connection open on the server with no one behind it; that reader is stopped (what
    arrived is kept, as for a cut connection) when its client has been silent for
    IDLE_SECONDS, or at once when a newer HEAD or PATCH of the same upload (the client
    resuming) supersedes it. It is only ever cancelled while it awaits the socket, never
    while a thread writes its bytes, and silence counts only while it awaits the socket:
    the server's own stalls (a slow fsync, S3 parts in flight) are not the client's."""

    def __init__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self.loop = asyncio.get_running_loop()
        self.last = self.loop.time()  # when it began to await the socket
        self.waiting = False  # awaiting the socket: a cancel lands there
        self.wanted = False  # stop asked for
        self.stopped = False  # the cancel was delivered
        self.timer = self.loop.call_later(IDLE_SECONDS, self._check)

    def _check(self) -> None:
        if self.waiting and self.loop.time() - self.last >= IDLE_SECONDS:
            self.stop()
        else:
            self.timer = self.loop.call_later(IDLE_SECONDS / 2, self._check)

    def stop(self) -> None:
        self.wanted = True
        if self.waiting and not self.stopped:
            self.stopped = True
            self.task.cancel()

    def done(self) -> None:
        self.timer.cancel()
        self.waiting = False


class _Slot:
    """One upload's lock (one writer at a time in this process) and its current reader."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.reader: _Reader | None = None


_slots: "weakref.WeakValueDictionary[str, _Slot]" = weakref.WeakValueDictionary()


def _slot(upload_id: str) -> _Slot:
    slot = _slots.get(upload_id)
    if slot is None:
        slot = _Slot()
        _slots[upload_id] = slot
    return slot


async def _take(slot: _Slot) -> bool:
    """The slot's lock, a reader in flight superseded first; False after LOCK_WAIT."""
    if slot.reader is not None:
        slot.reader.stop()
    try:
        await asyncio.wait_for(slot.lock.acquire(), LOCK_WAIT)
    except TimeoutError:
        return False
    return True


@contextlib.asynccontextmanager
async def _held(upload_id: str) -> AsyncIterator[_Slot]:
    """The upload's one writer slot for the request (a PATCH still in flight is the
    client's lost one: stopped first); 423 when it is not free within LOCK_WAIT."""
    slot = _slot(upload_id)
    if not await _take(slot):
        raise Locked(
            f"a PATCH of upload {upload_id} is still being written; retry shortly",
            field="upload_id",
            retry_after=1,
        )
    try:
        yield slot
    finally:
        slot.lock.release()


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


class _Behind:
    """One buffer written and hashed on a thread while the next is read from the socket."""

    def __init__(self, patch: Patch) -> None:
        self.patch = patch
        self.task: asyncio.Future[None] | None = None

    async def write(self, data: bytes) -> None:
        await self.settle()
        self.task = asyncio.ensure_future(run_in_threadpool(self.patch.write, data))

    async def settle(self) -> None:
        """The write in flight finished (its error raised here)."""
        if self.task is not None:
            task, self.task = self.task, None
            await task

    async def quiet(self) -> None:
        with contextlib.suppress(Exception):  # the request is failing anyway
            await self.settle()


async def _receive(
    request: Request, slot: _Slot, patch: Patch, checksum: bytes | None
) -> UploadInfo:
    """Stream the body into the upload in bounded buffers, each written and hashed on a
    thread while the next is read; a cut connection (or a silent or superseded one) keeps
    what was received (tus core) and raises ClientDisconnect."""
    if checksum is not None:
        patch.expect_checksum()
    stream = aiter(request.stream())
    chunks: list[bytes] = []  # joined once per BUFFER: one copy of each byte, not two
    size = 0
    behind = _Behind(patch)
    reader = slot.reader = _Reader()
    try:
        while not reader.wanted:
            reader.last = reader.loop.time()  # after the last write settled, not before
            reader.waiting = True
            try:
                chunk = await anext(stream)
            except StopAsyncIteration:
                break
            finally:
                reader.waiting = False
            chunks.append(chunk)
            size += len(chunk)
            if size >= BUFFER:
                data, chunks, size = b"".join(chunks), [], 0
                await behind.write(data)
        if reader.wanted:
            raise ClientDisconnect()
        reader.done()
        if chunks:
            await behind.write(b"".join(chunks))
        await behind.settle()
    except (ClientDisconnect, asyncio.CancelledError) as exc:
        reader.done()
        if isinstance(exc, asyncio.CancelledError):
            if not reader.stopped:  # the server is stopping: not ours to keep
                await behind.quiet()
                await run_in_threadpool(patch.abort)
                raise
            reader.task.uncancel()
        try:
            await behind.settle()
            if chunks:
                await run_in_threadpool(patch.write, b"".join(chunks))
        except BaseException:
            await run_in_threadpool(patch.abort)
            raise
        await run_in_threadpool(patch.keep)
        raise ClientDisconnect() from None
    except BaseException:
        reader.done()
        await behind.quiet()
        await run_in_threadpool(patch.abort)
        raise
    finally:
        if slot.reader is reader:
            slot.reader = None
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
        slot = _slot(info.id)
        async with slot.lock:
            patch = await run_in_threadpool(uploads.patch, principal.instance, info.id, 0)
            try:
                info = await _receive(request, slot, patch, checksum)
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
    await run_in_threadpool(uploads.get, principal.instance, upload_id)  # 404 before all
    # A client asks HEAD to resume: a PATCH still in flight is its lost one, stopped so
    # that the offset it answers is settled (and an upload completed by one writer only).
    async with _held(upload_id):
        info = await run_in_threadpool(uploads.current, principal.instance, upload_id)
    return Response(status_code=200, headers=_state_headers(info))


@router.get("/uploads/{upload_id}", summary="An upload's state (JSON, for pages)")
async def status(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> JSONResponse:
    uploads = _uploads(request)
    # Only reads (a PATCH may be running: GET is how a page follows it); HEAD or PATCH
    # finish an upload a crash left between its last byte and its blob.
    info = await run_in_threadpool(uploads.get, principal.instance, upload_id)
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
    await run_in_threadpool(uploads.get, principal.instance, upload_id)  # 404 before all
    async with _held(upload_id) as slot:
        found = await run_in_threadpool(uploads.patch, principal.instance, upload_id, offset)
        try:
            _declared_length(request, found.info.length - offset)
        except TooLarge:
            await run_in_threadpool(found.abort)
            raise
        try:
            info = await _receive(request, slot, found, checksum)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody reads it: the client is gone
    return Response(status_code=204, headers=_state_headers(info))


@router.delete("/uploads/{upload_id}", summary="tus termination: the upload and its bytes")
async def terminate(
    request: Request, principal: Annotated[Principal, Depends(require("ingest"))], upload_id: str
) -> Response:
    _check_tus(request)
    uploads = _uploads(request)
    await run_in_threadpool(uploads.get, principal.instance, upload_id)  # 404 before all
    async with _held(upload_id):
        await run_in_threadpool(uploads.terminate, principal.instance, upload_id)
    return Response(status_code=204)
