"""`tzzr grace serve`: GRACE alone, for a GPU box, an ASGI app beside `tzzr.app`. No
database and no blob store: the cells, contract 2.1 envelopes with base64 payloads, and
a bearer token."""

import hmac
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tzzr import __version__
from tzzr.api import problems
from tzzr.api.deps import body_schema, parse_body
from tzzr.cells.envelope import RunRequest, load_payload
from tzzr.cells.grace import execute
from tzzr.cells.registry import Registry
from tzzr.errors import Unauthorized

MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


def create_grace_app(cells: Registry, token: str | None) -> FastAPI:
    app = FastAPI(title="TZZR GRACE", version=__version__, docs_url=None, redoc_url=None)
    problems.install(app)

    def authorized(request: Request) -> None:
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
            raise Unauthorized("send 'Authorization: Bearer <TZZR_GRACE_TOKEN>'")

    Guard = Annotated[None, Depends(authorized)]

    @app.post(
        "/grace/runsync",
        summary="Run a cell and wait for its result (contract 2.1)",
        openapi_extra=body_schema(RunRequest),
    )
    async def runsync(request: Request, _: Guard) -> JSONResponse:
        # read with a limit before parsing, as the server does: base64 is 4/3 the bytes
        body = await parse_body(request, RunRequest, MAX_PAYLOAD_BYTES * 4 // 3 + 64 * 1024)
        answer = await run_in_threadpool(
            execute,
            cells,
            body.input,
            lambda envelope: load_payload(envelope, None, MAX_PAYLOAD_BYTES),
            body.id,
        )
        return JSONResponse(answer)

    @app.get("/grace/health", summary="GRACE's modules")
    def health(_: Guard) -> dict[str, Any]:
        return {"status": "ok", "contract_version": "2.1", "modules": cells.modules}

    return app
