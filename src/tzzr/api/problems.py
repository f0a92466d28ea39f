"""Errors mapped to HTTP once: `{"error": {"code", "message", "field"?}}`."""

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from tzzr.errors import Duplicate, TzzrError, Unauthorized
from tzzr.validation import request_invalid

log = logging.getLogger("tzzr")


def problem(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    error: dict[str, str] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return JSONResponse({"error": error}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(TzzrError)
    async def _tzzr(request: Request, exc: TzzrError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, Duplicate):
            headers["Location"] = f"/entries/{exc.h_entrada}"
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        error = request_invalid(exc)
        return problem(422, "invalid", error.message, error.field)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        response = problem(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # The client left mid-request: nothing was written, and no one will read this.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return problem(400, "client_disconnected", "the client disconnected mid-request")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        log.exception("internal error %s on %s %s", incident, request.method, request.url.path)
        return problem(500, "internal", f"internal error; the server log names it {incident}")
