"""The ASGI application: the same `Services` the CLI builds, behind HTTP."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI

from tzzr import __version__
from tzzr.api import (
    blobs,
    deps,
    devices,
    entries,
    factory,
    flows,
    grace,
    headers,
    ingest,
    ledger,
    openapi,
    operator,
    previews,
    problems,
    pwa,
    roles,
    runs,
    search,
    sentinel,
    uploads,
    visions,
    web,
)
from tzzr.sentinel import tracing
from tzzr.sentinel.metrics import Metrics
from tzzr.services import Services


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from tzzr.periodic import server_scheduler

        # MASON's sweep, SENTINEL, sealing, reaping jobs: once per deployment each period
        scheduler = server_scheduler(services).start()
        yield
        await asyncio.to_thread(scheduler.stop)
        services.close()

    app = FastAPI(
        title="TZZR",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads its assets from a CDN; /openapi.json stays
        redoc_url=None,
        dependencies=[Depends(deps.storable_parameters)],  # before any route reads them
    )
    app.state.services = services
    tracing.setup(services.settings, "tzzr-server")
    app.state.metrics = Metrics(services.engine, services.queue)
    app.state.metrics.install(app)
    app.add_middleware(headers.SecurityHeaders)
    problems.install(app)
    openapi.install(app)
    for module in (
        ingest,
        uploads,
        devices,
        entries,
        search,
        blobs,
        previews,
        ledger,
        grace,
        runs,
        flows,
        sentinel,
        visions,
        factory,
        operator,
        web,
        pwa,
    ):
        app.include_router(roles.annotate(module.router))
    app.mount("/app/static", web.static_files(), name="static")

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/", summary="What this server offers", include_in_schema=False)
    def root() -> dict[str, Any]:
        endpoints = [f"{method} {path}" for method, path, _ in roles.operations(app)]
        return {"name": "TZZR", "version": __version__, "endpoints": endpoints}

    return app
