"""The web app in a real browser (Debian's Chromium, headless, through Playwright) over
the real server and a real worker: capture -> inbox -> enrich -> block -> verification
in the browser; the offline outbox; labels and keyboard use. Screenshots go to
test-artifacts/web/."""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cells import receipts
from tests.cells.test_viewer import ARGS, CHROMIUM
from tests.conftest import IN_CI
from tests.runs.conftest import Shape, shape_server, worker_process
from tzzr import samples

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts" / "web"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shape]:
    home = tmp_path_factory.mktemp("web")
    with shape_server("sqlite", home) as shape, worker_process(shape.env, home / "worker.log"):
        shape.live.services.flows.install_defaults(
            shape.live.services.instances.get("deck").h_instancia
        )
        yield shape


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is needed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def phone(
    browser: Any, server: Shape, state: dict[str, Any] | None = None
) -> tuple[Any, Any, list[str]]:
    """A phone-sized context (with what a browser kept, `state`), its tab, and the
    requests it makes anywhere but the server."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=state)
    tab = context.new_page()
    outside: list[str] = []
    own = (server.live.url, f"blob:{server.live.url}/")  # object URLs of fetched photos
    tab.on("request", lambda r: None if r.url.startswith(own) else outside.append(r.url))
    return context, tab, outside


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: Shape) -> dict[str, Any]:
    """deck's admin signed in once through the sign-in page: what the browser keeps then
    (its localStorage) opens each test's page signed in, without a sign-in a test."""
    context, tab, outside = phone(browser, server)
    try:
        tab.goto(f"{server.live.url}/app")
        tab.get_by_label("API key").fill(server.live.admin_key)
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/app/inbox")
        state: dict[str, Any] = context.storage_state()
    finally:
        context.close()
    assert outside == []
    return state


@pytest.fixture
def page(browser: Any, server: Shape, signed_in: dict[str, Any]) -> Iterator[Any]:
    """A fresh context of its own, signed in as deck's admin, on no page yet."""
    context, tab, outside = phone(browser, server, signed_in)
    yield tab
    assert outside == []  # nothing from a CDN or anywhere else
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_state(server: Shape, h: str, state: str) -> None:
    deadline = time.monotonic() + 60
    with server.client() as client:
        while client.get(f"/entries/{h}").json()["state"] != state:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_capture_inbox_enrich_seal_and_verify_in_the_browser(
    page: Any, server: Shape, tmp_path: Path
) -> None:
    url = server.live.url
    photo = tmp_path / "todo.png"
    photo.write_bytes(samples.read("todo.png"))
    page.goto(f"{url}/app/capture")
    page.get_by_label("Take or choose a photo").set_input_files(str(photo))
    page.get_by_label("Notes").fill("whiteboard after the meeting")
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("() => document.getElementById('result').dataset.h")
    h = page.get_attribute("#result", "data-h")
    assert page.inner_text("#result").startswith("Captured:")
    shot(page, "1-capture")
    wait_state(server, h, "enriching")  # the worker read it: text but no amount

    page.goto(f"{url}/app/inbox")
    row = page.locator("tr", has=page.locator(f"a[href='/app/entry?h={h}']"))
    row.wait_for()
    assert "enriching" in row.inner_text()
    shot(page, "2-inbox")

    page.goto(f"{url}/app/entry?h={h}")
    page.wait_for_selector("#results .card")
    assert "Call Ana about the lease" in page.inner_text("#results")
    page.get_by_role("link", name="Enrich it").click()
    page.wait_for_selector("#f-amount")
    assert "left before it is sealed" in page.inner_text("#deadline")
    page.get_by_label("Amount").fill("12.5")
    page.get_by_label("Currency (ISO 4217)").fill("EUR")
    page.get_by_label("Title").fill("Meeting to-do list")
    shot(page, "3-enrich")
    page.get_by_role("button", name="Save").click()
    page.wait_for_function("() => document.getElementById('saved').textContent.startsWith('Saved')")
    assert "enriched" in page.inner_text("#saved")
    wait_state(server, h, "consolidated")

    with server.client() as client:
        assert client.post("/consolidate").json()["block"] is not None
    page.goto(f"{url}/app/ledger?h={h}")
    page.wait_for_function(
        "() => ['VALID', 'INVALID'].some(v => document.getElementById('verdict').textContent.startsWith(v))"
    )
    verdict = page.inner_text("#verdict")
    assert verdict.startswith("VALID"), verdict
    assert "Checked in this browser" in verdict and "block 1" in verdict
    assert page.locator("#blocks tr").count() >= 1
    shot(page, "4-ledger-verified")
    # the browser's check is real: a tampered receipt fails it
    for tamper in (
        "r => { r.leaf_index = r.leaf_index + 1; return r; }",
        "r => { r.entry.contenedor.metadata.note = 'changed'; return r; }",
        "r => { r.checkpoint = r.checkpoint.replace(/\\n(\\d+)\\n/, (m, n) => `\\n${Number(n) + 1}\\n`); return r; }",
    ):
        error = page.evaluate(
            f"""async () => {{
                const r = ({tamper})(JSON.parse(JSON.stringify(window.tzzrLastReceipt)));
                try {{ await window.tzzrVerify.verifyReceipt(r, []); return null; }}
                catch (e) {{ return e.message; }}
            }}"""
        )
        assert error, tamper


def test_the_enrich_form_comes_filled_with_what_was_read(page: Any, server: Shape) -> None:
    """A receipt with no total waits in MASON: the form holds the merchant, date, tax id
    and currency the cells read, each saying who read it; the person corrects the date,
    adds the amount, and the history says what was corrected."""
    with server.client() as client:
        captured = client.post(
            "/ingest",
            data={"metadata": f'{{"lang": "es", "n": {time.time()}}}'},
            files=[("file", ("no-total.png", receipts.image(receipts.NO_TOTAL), "image/png"))],
        )
    assert captured.status_code == 200, captured.text
    h = captured.json()["h_entrada"]
    wait_state(server, h, "enriching")
    page.goto(f"{server.live.url}/app/enrich?h={h}")
    page.wait_for_function("() => document.getElementById('f-merchant')?.value !== ''")
    assert page.input_value("#f-merchant") == "Ferretería López"
    assert page.input_value("#f-title") == "Ferretería López"
    assert page.input_value("#f-taxId") == "B12345674" and page.input_value("#f-currency") == "EUR"
    assert page.get_attribute("#f-date", "type") == "date"
    assert page.input_value("#f-date") == "2026-11-12" and page.input_value("#f-amount") == ""
    assert "Read by fields (receipt-fields)" in page.inner_text("#f-date-hint")
    assert "not enriched yet" in page.inner_text("#history")
    # Before typing: a full-page screenshot resizes the page, and a click straight after
    # it can land where the button was (on the form) rather than on it.
    shot(page, "5-enrich-suggested")
    page.get_by_label("Date").fill("2026-11-13")
    page.get_by_label("Amount").fill("5.6")
    page.get_by_role("button", name="Save").click()
    page.wait_for_function("() => document.getElementById('saved').textContent.startsWith('Saved')")
    assert "corrected date" in page.inner_text("#saved")
    page.wait_for_function(
        "() => document.getElementById('history').textContent.includes('2026-11-12 → 2026-11-13')"
    )


def test_an_offline_capture_waits_in_the_browser_and_is_sent_later(
    page: Any, server: Shape
) -> None:
    with server.client() as client:
        before = len(client.get("/entries", params={"limit": 500}).json()["entries"])
    page.goto(f"{server.live.url}/app/capture")
    page.wait_for_selector("#capture")
    page.context.set_offline(True)
    page.get_by_label("Or pick files").set_input_files(
        files=[
            {
                "name": "offline.txt",
                "mimeType": "text/plain",
                "buffer": f"written offline {time.time()}".encode(),
            }
        ]
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(
        "() => document.getElementById('outbox').textContent.includes('waiting')"
    )
    assert "offline" in page.inner_text("#result")
    shot(page, "6-offline")
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.getElementById('outbox').textContent === ''")
    with server.client() as client:
        after = client.get("/entries", params={"limit": 500}).json()["entries"]
    assert len(after) == before + 1
    assert after[0]["contenedor"]["files"][0]["name"] == "offline.txt"


@pytest.mark.parametrize(
    "path",
    [
        "/app",
        "/app/capture",
        "/app/inbox",
        "/app/ledger",
        "/app/cells",
        "/app/flows",
        "/app/sentinel",
    ],
)
def test_every_control_is_labelled(page: Any, server: Shape, path: str) -> None:
    page.goto(f"{server.live.url}{path}")
    page.wait_for_load_state("networkidle")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(n => n.type !== 'hidden')
            .filter(n => !(n.id && document.querySelector(`label[for="${n.id}"]`)) && !n.getAttribute('aria-label'))
            .map(n => n.outerHTML)"""
    )
    assert unlabelled == []
    assert page.locator("nav[aria-label='Main'] a").count() >= 6
    assert page.inner_text("#message") == ""  # no error while loading the page's data
    if path == "/app/sentinel":  # the charts were drawn: not a blank canvas
        for chart in ("#chart", "#latency-chart"):
            assert page.evaluate(
                f"""() => {{ const c = document.querySelector('{chart}');
                    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                    return new Set(d).size > 3; }}"""
            )
    shot(page, "page" + path.replace("/", "-"))


def test_the_keyboard_reaches_the_controls(browser: Any, server: Shape) -> None:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server.live.url}/app")
    tab.focus("#key")
    tab.keyboard.type(server.live.admin_key)
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Sign in"
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/app/inbox")
    context.close()
    bad = httpx.get(f"{server.live.url}/entries", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
