"""The web app as an installable app (PACKET): its manifest, its service worker and the
share target's fallback. None of them reads or serves data: the manifest and the worker
are the same for everyone, and a share posted to the server (no worker yet to take it)
is answered with the capture page and a message, its bytes never read."""

import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from tzzr.api import web

router = APIRouter()
WORKER = files("tzzr.web") / "sw.js"
THEME = "#171a23"  # app.css --panel: the header's colour, the status bar's when installed
BACKGROUND = "#0f1117"  # --bg: the splash screen's
SHARE = "/app/share"


def manifest() -> dict[str, Any]:
    """The W3C web app manifest: standalone from /app/capture within /app/, and a share
    target, so the phone's share sheet offers TZZR for photos, recordings and files."""
    icons = "/app/static/icons"
    return {
        "id": "/app/capture",
        "name": "TZZR capture",
        "short_name": "TZZR",
        "description": "Capture photos, voice notes and files into your TZZR ledger, "
        "online or not.",
        "start_url": "/app/capture",
        "scope": "/app/",
        "display": "standalone",
        "theme_color": THEME,
        "background_color": BACKGROUND,
        "icons": [
            {"src": f"{icons}/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{icons}/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{icons}/maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "share_target": {
            "action": SHARE,
            "method": "POST",
            "enctype": "multipart/form-data",
            "params": {
                "title": "title",
                "text": "text",
                "url": "url",
                "files": [{"name": "files", "accept": ["*/*"]}],
            },
        },
    }


def pages() -> list[str]:
    """The pages under /app/ (the sign-in page, /app itself, is outside the worker's scope:
    signing in needs the server anyway)."""
    return sorted(
        route.path
        for route in web.router.routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and route.path.startswith("/app/")
    )


@cache
def shell() -> tuple[str, str]:
    """(version, paths): what the worker precaches, every page and every file under
    /app/static, and a digest of it all, so that any change installs a new worker (whose
    cache replaces the old one) and an unchanged app keeps its cache."""
    paths = pages()
    digest = hashlib.sha256(WORKER.read_bytes())
    for asset in sorted(_assets()):
        paths.append(f"/app/static/{asset}")
        digest.update(asset.encode() + b"\0" + web.STATIC.joinpath(*asset.split("/")).read_bytes())
    digest.update(json.dumps(paths).encode())
    return digest.hexdigest()[:16], json.dumps(paths)


def _assets(folder: Any = None, prefix: str = "") -> list[str]:
    found: list[str] = []
    for item in (folder or web.STATIC).iterdir():
        if item.is_dir():
            found += _assets(item, f"{prefix}{item.name}/")
        elif not item.name.startswith(".") and not item.name.endswith((".md", ".map")):
            found.append(f"{prefix}{item.name}")
    return found


@router.get("/app/manifest.webmanifest", include_in_schema=False)
def web_manifest() -> Response:
    return Response(
        json.dumps(manifest(), indent=1),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/app/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """Served from /app/ so that its scope is the app's, and never cached by HTTP (the
    browser checks it for a new version at each navigation)."""
    version, paths = shell()
    source = f"const VERSION = {json.dumps(version)};\nconst SHELL = {paths};\n"
    return Response(
        source + WORKER.read_text("utf-8"),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.post(SHARE, include_in_schema=False)
def share_without_worker() -> RedirectResponse:
    """The share target's action reached the server: the service worker, which takes
    shares into the outbox, was not installed (or was cleared). Nothing is read or kept;
    the capture page says to share again once the app is open."""
    return RedirectResponse("/app/capture?share=unready", status_code=303)
