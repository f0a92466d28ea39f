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
    entries,
    flows,
    grace,
    headers,
    ingest,
    ledger,
    openapi,
    operator,
    problems,
    roles,
    runs,
    sentinel,
    web,
)
from tzzr.sentinel import tracing
from tzzr.sentinel.metrics import Metrics
from tzzr.services import Services

SWEEP_SECONDS = 30.0


async def _sweep_enrichments(services: Services) -> None:
    """MASON's deadlines: at start (items that fell due while the server was down)
    and then every SWEEP_SECONDS."""
    import logging

    while True:
        try:
            swept = await asyncio.to_thread(services.mason.sweep)
            if swept:
                logging.getLogger("tzzr.mason").info("%d item(s) reached their deadline", swept)
        except Exception:
            logging.getLogger("tzzr.mason").exception("sweeping the enrichment window failed")
        await asyncio.sleep(SWEEP_SECONDS)


async def _watch(services: Services) -> None:
    """SENTINEL's alert rules, and the events' retention, every TZZR_ALERT_INTERVAL seconds."""
    import logging

    from tzzr.sentinel.events import prune

    while True:
        await asyncio.sleep(services.settings.alert_interval)
        try:
            await asyncio.to_thread(services.alerts.evaluate)
        except Exception:
            logging.getLogger("tzzr.sentinel").exception("evaluating the alert rules failed")
        try:
            await asyncio.to_thread(prune, services.engine, services.settings.event_retention_days)
        except Exception:
            logging.getLogger("tzzr.sentinel").exception("deleting old events failed")


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(services.jobs.recover)
        sweeper = asyncio.create_task(_sweep_enrichments(services))
        watcher = (
            asyncio.create_task(_watch(services)) if services.settings.alert_interval > 0 else None
        )
        sealer = None
        if services.settings.block_interval > 0:
            from tzzr.feldman import sealing

            sealer = asyncio.create_task(
                sealing.run(
                    services.instances.list, services.ledger, services.settings.block_interval
                )
            )
        yield
        sweeper.cancel()
        if watcher is not None:
            watcher.cancel()
        if sealer is not None:
            sealer.cancel()
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
    for module in (ingest, entries, blobs, ledger, grace, runs, flows, sentinel, operator, web):
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
