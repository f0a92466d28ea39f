"""The live viewer in a real browser (Debian's Chromium, headless, through Playwright):
it lists the registry's render cells, its JavaScript geometry equals the cells' own, the
canvas draws, the sliders move the figure, and nothing is fetched from outside the
server."""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tests.conftest import IN_CI, Live, make_settings, running
from tzzr.cells.render.cells import HolocubeCell, HoloParams, HypercubeCell, HyperParams

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Viewer:
    tab: Any
    live: Live
    requests: list[str]


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        message = "Debian's chromium is needed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("viewer") / "home"
    with running(make_settings(home)) as live, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page()
        requests: list[str] = []
        tab.on("request", lambda request: requests.append(request.url))
        tab.goto(f"{live.url}/app/viewer?still")
        tab.wait_for_function("() => window.tzzrViewer !== undefined")
        yield Viewer(tab, live, requests)
        browser.close()


CASES = [
    ("render-4d-hypercube", HypercubeCell, HyperParams, {"size": 512}),
    (
        "render-4d-hypercube",
        HypercubeCell,
        HyperParams,
        {
            "size": 300,
            "projection": "stereographic",
            "angles": {"xw": 33, "yz": -12},
            "speeds": {"zw": 90},
        },
    ),
    (
        "render-4d-hypercube",
        HypercubeCell,
        HyperParams,
        {"size": 512, "distance4": 5, "distance": 7, "angles": {}, "speeds": {}},
    ),
    (
        "render-3d-holocube",
        HolocubeCell,
        HoloParams,
        {"size": 400, "angles": {"xy": 5}, "speeds": {"yz": 45}},
    ),
]


@pytest.mark.parametrize(("cell_id", "cell", "model", "params"), CASES)
def test_the_browser_computes_the_cells_geometry(
    page: Any, cell_id: str, cell: Any, model: Any, params: dict[str, Any]
) -> None:
    for frame in (0, 7, 45):
        browser = page.evaluate(
            "([id, p, f]) => window.tzzrGeometry.pose(id, p, f)", [cell_id, params, frame]
        )
        pixels, weights = cell().pose(model.model_validate(params), frame)
        assert np.allclose(np.array(browser["points"]), pixels, atol=1e-6)
        assert np.allclose(np.array(browser["depth"]), weights, atol=1e-9)
        assert len(browser["edges"]) == (32 if cell_id.endswith("hypercube") else 12)


def test_the_cells_listed_are_the_registrys_render_cells(viewer: Viewer) -> None:
    listed = viewer.tab.evaluate("[...document.getElementById('cell').options].map(o => o.value)")
    render = [c for c in viewer.live.services.cells.cells() if c.meta.type == "render"]
    assert sorted(listed) == sorted(c.meta.id for c in render) and len(listed) == 2
    assert listed[0] == "render-4d-hypercube"  # shown first
    assert viewer.tab.locator("nav[aria-label='Main'] a[aria-current='page']").inner_text() == (
        "Viewer"
    )  # inside the layout


def test_the_canvas_draws_and_the_sliders_move_it(page: Any) -> None:
    before = page.evaluate("document.getElementById('stage').toDataURL()")
    lit = page.evaluate(
        """() => {
            const c = document.getElementById('stage');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) n++;
            return n;
        }"""
    )
    assert lit > 1000  # the figure's edges are on the canvas
    page.fill("#angle-xw", "90")  # a range input: fill sets its value and fires input
    after = page.evaluate("document.getElementById('stage').toDataURL()")
    assert after != before
    assert "32 edges" in page.inner_text("#readout")
    page.select_option("#cell", "render-3d-holocube")
    assert "12 edges" in page.inner_text("#readout")
    assert page.locator("#angle-xw").count() == 0 and page.locator("#angle-yz").count() == 1
    page.select_option("#cell", "render-4d-hypercube")


def test_controls_are_labelled_and_reachable_by_keyboard(page: Any) -> None:
    for control in page.query_selector_all("select, input"):
        control_id = control.get_attribute("id")
        assert page.locator(f"label[for='{control_id}']").count() == 1, control_id
    page.focus("#cell")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "projection"


def test_nothing_is_fetched_from_outside(viewer: Viewer) -> None:
    assert viewer.requests and all(url.startswith(viewer.live.url) for url in viewer.requests)


@pytest.fixture
def page(viewer: Viewer) -> Any:
    return viewer.tab
