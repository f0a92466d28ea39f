"""The web app's pages, rendered without a server, a browser or services: every page of
the router comes from a template that extends the one layout, loads its own ES module
(whose imports all resolve to files under /app/static), and the viewer lists the
registry's render cells, a new one included. The browser tests (tests/web,
tests/cells/test_viewer.py) run the pages themselves."""

import json
import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tzzr.api import web
from tzzr.cells.ocr import OcrCell
from tzzr.cells.registry import Registry
from tzzr.cells.render.cells import HolocubeCell, HoloParams, HypercubeCell, _meta

TEMPLATES = Path(str(files("tzzr.web") / "templates"))
STATIC = Path(str(web.STATIC))
PAGES = {
    route.path: route.endpoint.__name__
    for route in web.router.routes
    if isinstance(route, APIRoute) and "GET" in (route.methods or ())
}
IMPORT = re.compile(r"""^\s*import\b[^"']*["']([^"']+)["']""", re.M)


class WireCell(HolocubeCell):
    """A third-party render cell: another cube, installed beside the built-in ones."""

    def __init__(self) -> None:
        super().__init__()
        self.meta = _meta("render-3d-wire", HoloParams.__doc__ or "", "A plain wire cube.", [])


def client_for(registry: Registry) -> TestClient:
    app = FastAPI()
    app.include_router(web.router)
    app.mount("/app/static", web.static_files(), name="static")
    app.dependency_overrides[web.registry] = lambda: registry
    return TestClient(app)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with client_for(Registry([OcrCell(), HolocubeCell(), HypercubeCell()])) as opened:
        yield opened


def test_the_router_has_the_pages() -> None:
    assert set(PAGES) == {
        "/app",
        "/app/capture",
        "/app/inbox",
        "/app/entry",
        "/app/enrich",
        "/app/ledger",
        "/app/cells",
        "/app/flows",
        "/app/visions",
        "/app/habits",
        "/app/factory",
        "/app/sentinel",
        "/app/viewer",
    }


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_extends_the_layout_and_loads_its_module(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    page = re.search(r'<body data-page="([a-z]+)">', html)
    assert page is not None
    name = page.group(1)
    template = (TEMPLATES / f"{name}.html").read_text()
    assert template.startswith('{% extends "base.html" %}')
    # the layout's parts, once each: the stylesheet, the nav with this page marked, the
    # title, the message line, and one module script (this page's), nothing inline
    assert html.startswith("<!doctype html>") and html.count("<html") == 1
    assert html.count('<link rel="stylesheet" href="/app/static/app.css">') == 1
    assert html.count('<nav aria-label="Main">') == 1
    assert len(re.findall(r"<a href=\"/app/[a-z]+\"", html)) == len(web.NAV)
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
    assert current == [href for key, href, _ in web.NAV if key == name]
    assert '<h1 id="title">' in html and '<p id="message" role="status"></p>' in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == [f'<script type="module" src="/app/static/pages/{name}.js">']
    assert "<style" not in html and not re.search(r"<[^>]*\s(style|on[a-z]+)=", html)
    assert client.get(f"/app/static/pages/{name}.js").status_code == 200
    # every module it imports, directly or not, is preloaded (one round trip, not one per
    # import level), and nothing else
    preloaded = re.findall(r'<link rel="modulepreload" href="/app/static/([^"]+)">', html)
    assert sorted(preloaded) == sorted(closure(STATIC / "pages" / f"{name}.js"))


def closure(module: Path) -> set[str]:
    """What `module` imports, directly or not, as paths under static/."""
    found: set[str] = set()
    for target in IMPORT.findall(module.read_text()):
        path = (module.parent / target).resolve()
        relative = path.relative_to(STATIC.resolve()).as_posix()
        if relative not in found:
            found |= {relative, *closure(path)}
    return found


def test_every_page_has_its_own_template_and_module() -> None:
    pages = {path.stem for path in (STATIC / "pages").glob("*.js")}
    templates = {path.stem for path in TEMPLATES.glob("*.html")} - {"base", "macros"}
    assert (
        pages == templates == {"signin", *(p.removeprefix("/app/") for p in PAGES if p != "/app")}
    )


def modules() -> list[Path]:
    # tus-js-client's bundle is UMD, not a module of ours (vendor/tus/README.md)
    return sorted(p for p in STATIC.rglob("*.js") if p.parent.name != "tus")


@pytest.mark.parametrize("module", modules(), ids=lambda p: str(p.relative_to(STATIC)))
def test_every_import_resolves_to_a_served_file(client: TestClient, module: Path) -> None:
    source = module.read_text()
    assert '"use strict"' not in source  # a module is strict by itself
    assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|\beval\(", source)
    for target in IMPORT.findall(source):
        assert target.startswith(("./", "../")) and target.endswith(".js"), target
        found = (module.parent / target).resolve()
        assert found.is_file(), (module, target)
        served = "/app/static/" + found.relative_to(STATIC.resolve()).as_posix()
        assert client.get(served).headers["content-type"].startswith("text/javascript")


def options(html: str) -> list[tuple[str, dict[str, Any]]]:
    found = re.findall(r'<option value="([^"]+)" data-defaults="([^"]+)">', html)
    return [(cell, json.loads(defaults.replace("&#34;", '"'))) for cell, defaults in found]


def test_the_viewer_lists_the_registrys_render_cells(client: TestClient) -> None:
    listed = options(client.get("/app/viewer").text)
    # the render cells, the hypercube first (it is shown at start); not the OCR cell
    assert [cell for cell, _ in listed] == ["render-4d-hypercube", "render-3d-holocube"]
    defaults = dict(listed)
    # what geometry.js poses with are the cells' own parameter models' defaults
    assert defaults["render-3d-holocube"] == {
        "dims": 3,
        **HoloParams().model_dump(mode="json", by_alias=True),
    }
    assert defaults["render-4d-hypercube"]["dims"] == 4
    assert defaults["render-4d-hypercube"]["speeds"] == {"xw": 45.0, "zw": 30.0}


def test_a_cell_added_to_the_registry_appears_in_the_viewer() -> None:
    registry = Registry([HolocubeCell(), HypercubeCell(), WireCell()])
    with client_for(registry) as client:
        listed = [cell for cell, _ in options(client.get("/app/viewer").text)]
    assert listed == ["render-4d-hypercube", "render-3d-holocube", "render-3d-wire"]


def test_without_a_render_cell_the_viewer_says_so() -> None:
    with client_for(Registry([OcrCell()])) as client:
        html = client.get("/app/viewer").text
    assert options(html) == [] and "No render cell is installed." in html


def test_values_are_escaped() -> None:
    """Autoescape is on: a value is text in the page, never markup."""
    html = web.templates.get_template("inbox.html").render(
        page="inbox",
        title='<script>x</script>"',
        nav=web.NAV,
        module="x.js",
        preloads=(),
        states=("<b>",),
    )
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;&#34;" in html
    assert "<b>" not in html and '<option value="&lt;b&gt;">&lt;b&gt;</option>' in html
