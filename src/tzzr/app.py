"""The ASGI application: the same `Services` the CLI builds, behind HTTP."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from tzzr import __version__
from tzzr.api import blobs, entries, ingest, problems
from tzzr.services import Services


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title="TZZR",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads its assets from a CDN; /openapi.json stays
        redoc_url=None,
    )
    app.state.services = services
    problems.install(app)
    app.include_router(ingest.router)
    app.include_router(entries.router)
    app.include_router(blobs.router)

    @app.get("/health", summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @app.get("/", summary="What this server offers", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {
            "name": "TZZR",
            "version": __version__,
            "endpoints": [
                "POST /ingest",
                "GET /entries",
                "GET /entries/{h_entrada}",
                "GET /blobs/{sha256}",
                "GET /health",
                "GET /openapi.json",
            ],
        }

    return app
