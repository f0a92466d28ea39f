"""The web app's pages (server-rendered HTML, light JavaScript, local assets only)."""

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = files("tzzr.web") / "static"
router = APIRouter()


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(STATIC))


@router.get("/app/viewer", summary="Live viewer of the render cells' geometry (HTML)")
def viewer() -> HTMLResponse:
    return HTMLResponse((STATIC / "viewer.html").read_text(encoding="utf-8"))
