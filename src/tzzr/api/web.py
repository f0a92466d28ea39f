"""The web app: server-rendered pages (the structure, forms and labels) from Jinja2
templates with one base layout (`tzzr/web/templates/base.html`), and one ES module per
page for the data (`tzzr/web/static/pages/<page>.js`, with shared helpers under
`static/lib/`), served by `tzzr serve`, every asset local (no CDN). The API key stays in
the browser and is sent as a bearer token, like any client."""

import json
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from tzzr.api.deps import services
from tzzr.cells.base import Cell
from tzzr.cells.registry import Registry
from tzzr.states import EntryState, values

STATIC = files("tzzr.web") / "static"
router = APIRouter()
NAV = [
    ("capture", "/app/capture", "Capture"),
    ("inbox", "/app/inbox", "Inbox"),
    ("ledger", "/app/ledger", "Ledger"),
    ("cells", "/app/cells", "Cells"),
    ("flows", "/app/flows", "Flows"),
    ("visions", "/app/visions", "Visions"),
    ("habits", "/app/habits", "Habits"),
    ("factory", "/app/factory", "THE FACTORY"),
    ("sentinel", "/app/sentinel", "SENTINEL"),
    ("viewer", "/app/viewer", "Viewer"),
]
# Autoescaped (a value is text, never markup); an undefined name is an error, not "".
templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("tzzr.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(STATIC))


# `import … from "./x.js"` at the start of a line: how the modules import each other.
IMPORT = re.compile(r"""^import\b[^"']*["'](\.{1,2}/[^"']+)["']""", re.MULTILINE)


@cache
def imported(module: str) -> tuple[str, ...]:
    """Every module that `module` (a path under static/) imports, directly or not, in
    the order they are met: the layout preloads them (`rel=modulepreload`), so the browser
    fetches them all at once instead of one import level after another."""
    found: list[str] = []

    def visit(path: str) -> None:
        for target in IMPORT.findall(STATIC.joinpath(*path.split("/")).read_text("utf-8")):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if resolved not in found:
                found.append(resolved)
                visit(resolved)

    visit(module)
    return tuple(found)


def render(request: Request, page: str, title: str, **context: Any) -> HTMLResponse:
    """`templates/<page>.html`, which extends the layout and loads `pages/<page>.js`."""
    module = f"pages/{page}.js"
    return templates.TemplateResponse(
        request,
        f"{page}.html",
        {
            "page": page,
            "title": title,
            "nav": NAV,
            "module": module,
            "preloads": imported(module),
            **context,
        },
    )


@runtime_checkable
class Drawable(Protocol):
    """A render cell the browser can draw (static/geometry.js): an n-cube of 3 or 4
    dimensions, posed by a parameters model whose defaults the page carries."""

    dimensions: int
    model: type[BaseModel]


@dataclass(frozen=True)
class ViewerCell:
    id: str
    defaults: str  # JSON: the parameters model's defaults and `dims`, for geometry.js


def viewer_cells(cells: list[Cell]) -> list[ViewerCell]:
    """The registry's render cells the viewer can draw, the most dimensions first."""
    drawable = [
        cell
        for cell in cells
        if cell.meta.type == "render" and isinstance(cell, Drawable) and cell.dimensions in (3, 4)
    ]
    drawable.sort(key=lambda cell: (-cell.dimensions, cell.meta.id))
    return [
        ViewerCell(
            cell.meta.id,
            json.dumps(
                {"dims": cell.dimensions, **cell.model().model_dump(mode="json", by_alias=True)},
                separators=(",", ":"),
            ),
        )
        for cell in drawable
    ]


def registry(request: Request) -> Registry:
    """The installed cells (built-in and plug-ins); a dependency, so a test can swap it."""
    return services(request).cells


Installed = Annotated[Registry, Depends(registry)]


@router.get("/app", summary="The web app: sign in with an API key (HTML)")
def signin(request: Request) -> HTMLResponse:
    return render(request, "signin", "Sign in")


@router.get("/app/capture", summary="Capture: a photo, audio or files, with notes (HTML)")
def capture(request: Request) -> HTMLResponse:
    return render(request, "capture", "Capture")


@router.get("/app/inbox", summary="Inbox: search, filters, entries with what was read (HTML)")
def inbox(request: Request) -> HTMLResponse:
    return render(request, "inbox", "Inbox", states=values(EntryState))


@router.get("/app/entry", summary="One entry: its photo or recording, fields, ledger (HTML)")
def entry(request: Request) -> HTMLResponse:
    return render(request, "entry", "Entry")


@router.get("/app/enrich", summary="MASON: enrich an item before its deadline (HTML)")
def enrich(request: Request) -> HTMLResponse:
    return render(request, "enrich", "Enrich")


@router.get("/app/ledger", summary="Ledger explorer; proofs verified in the browser (HTML)")
def ledger(request: Request) -> HTMLResponse:
    return render(request, "ledger", "Ledger")


@router.get("/app/cells", summary="Cells and runs (HTML)")
def cells(request: Request) -> HTMLResponse:
    return render(request, "cells", "Cells and runs")


@router.get("/app/flows", summary="Flows and executions (HTML)")
def flows(request: Request) -> HTMLResponse:
    return render(request, "flows", "Flows and executions")


@router.get("/app/visions", summary="Visions as a tree with progress (HTML)")
def visions(request: Request) -> HTMLResponse:
    return render(request, "visions", "Visions")


@router.get("/app/habits", summary="Habits as a check-in grid with streaks (HTML)")
def habits(request: Request) -> HTMLResponse:
    return render(request, "habits", "Habits")


@router.get("/app/factory", summary="THE FACTORY: rounds side by side, accept or reject (HTML)")
def factory(request: Request) -> HTMLResponse:
    return render(request, "factory", "THE FACTORY")


@router.get("/app/sentinel", summary="SENTINEL dashboard: events, alerts, charts (HTML)")
def sentinel(request: Request) -> HTMLResponse:
    return render(request, "sentinel", "SENTINEL")


@router.get("/app/viewer", summary="Live viewer of the render cells' geometry (HTML)")
def viewer(request: Request, installed: Installed) -> HTMLResponse:
    return render(request, "viewer", "Cell viewer", cells=viewer_cells(installed.cells()))
