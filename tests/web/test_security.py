"""The web app under its CSP in a real browser (Debian's Chromium, headless): every page of
the router, signed in, raises no `securitypolicyviolation` and no script error; links
with a bad `h` fetch nothing; the outbox keeps what the server refused (401, 413) with
the server's message, until the person retries after signing in again, or discards it."""

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.conftest import running
from tests.runs.conftest import Shape, settings_for, shape_env, worker_process
from tests.web.test_app import browser, wait_state
from tzzr import samples
from tzzr.api import web

__all__ = ["browser"]  # the fixture, shared with test_app.py

MAX_FILE = 64 * 1024
PAGES = sorted(
    route.path
    for route in web.router.routes
    if isinstance(route, APIRoute) and "GET" in (route.methods or ())
)
# Runs before any script of the page: what the CSP refused, and every script error.
WATCH = """
window.tzzrViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.tzzrViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`
), true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shape]:
    """The embedded shape with a worker (so pages show real results) and a small file
    limit, to be refused with 413."""
    home = tmp_path_factory.mktemp("web-security")
    env = {**shape_env("sqlite", home), "TZZR_MAX_FILE_BYTES": str(MAX_FILE)}
    with running(settings_for(env)) as live, worker_process(env, home / "worker.log"):
        live.services.flows.install_defaults(live.services.instances.get("deck").h_instancia)
        yield Shape(live, env, "sqlite")


@pytest.fixture(scope="module")
def enriching(server: Shape) -> str:
    """An entry the worker read and sent to MASON: every page has data to show for it."""
    with server.client() as client:
        response = client.post(
            "/ingest",
            data={"metadata": f'{{"note": "csp {uuid.uuid4().hex}"}}'},
            files=[("file", ("todo.png", samples.read("todo.png"), "image/png"))],
        )
    assert response.status_code in (200, 409), response.text
    h: str = response.json()["h_entrada"]
    wait_state(server, h, "enriching")
    return h


class Tab:
    """A signed-in tab that records CSP violations, script errors and requests. Signed in
    with `key` through the sign-in page, or opened with what a signed-in browser keeps
    (`state`: its localStorage) on no page yet."""

    def __init__(
        self, browser: Any, server: Shape, key: str, state: dict[str, Any] | None = None
    ) -> None:
        self.url = server.live.url
        self.context = browser.new_context(
            viewport={"width": 390, "height": 844}, storage_state=state
        )
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("request", lambda r: self.requests.append(r.url.removeprefix(self.url)))
        if state is None:
            self.sign_in(key)
            self.page.wait_for_url("**/app/inbox")
            self.page.wait_for_load_state("networkidle")  # the inbox's own fetches done

    def sign_in(self, key: str) -> None:
        if "/app?" not in self.page.url:
            self.page.goto(f"{self.url}/app")
        self.page.get_by_label("API key").fill(key)
        self.page.keyboard.press("Enter")

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.tzzrViolations")
        return found

    def script_errors(self) -> list[str]:
        # a refused request (a 404 for an unsealed receipt) is logged as an error by
        # Chromium; it is the page's data, not a fault of the page
        return [e for e in self.errors if not e.startswith("Failed to load resource")]

    def queued(self) -> int:
        count: int = self.page.evaluate(
            """() => new Promise((resolve) => { const r = indexedDB.open("tzzr", 1);
                r.onsuccess = () => { const c = r.result.transaction("outbox").objectStore("outbox").count();
                  c.onsuccess = () => resolve(c.result); }; })"""
        )
        return count

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: Shape) -> dict[str, Any]:
    """deck's admin signed in once through the sign-in page: what the browser keeps then,
    for the tabs below (a sign-in a test, with the inbox's load, cost a second each)."""
    first = Tab(browser, server, server.live.admin_key)
    try:
        state: dict[str, Any] = first.context.storage_state()
        assert first.violations() == [] and first.script_errors() == []
    finally:
        first.close()
    return state


@pytest.fixture
def tab(browser: Any, server: Shape, signed_in: dict[str, Any]) -> Iterator[Tab]:
    """A fresh browser context of its own, signed in as deck's admin."""
    opened = Tab(browser, server, server.live.admin_key, signed_in)
    yield opened
    opened.close()


def entries(server: Shape) -> list[dict[str, Any]]:
    with server.client() as client:
        found: list[dict[str, Any]] = client.get("/entries", params={"limit": 500}).json()[
            "entries"
        ]
    return found


def test_the_pages_come_from_the_router() -> None:
    assert {"/app", "/app/capture", "/app/entry", "/app/enrich", "/app/viewer"} <= set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_under_its_csp(tab: Tab, enriching: str, path: str) -> None:
    tab.page.goto(f"{tab.url}{path}?h={enriching}")
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.title().startswith("TZZR")
    assert tab.violations() == []
    assert tab.script_errors() == []
    if tab.page.locator("#message").count():  # the page loaded its data without an error
        assert tab.page.inner_text("#message") == ""
    if path == "/app/enrich":  # its form was built from the schema, by script
        assert tab.page.locator("#fields input, #fields select").count() >= 1
    if path == "/app/entry":
        assert tab.page.locator("#results .card").count() >= 1


def test_the_watch_sees_what_the_csp_blocks(tab: Tab) -> None:
    """The zero above means something: inline style and script are seen when tried."""
    tab.page.goto(f"{tab.url}/app/inbox")
    tab.page.wait_for_load_state("networkidle")
    tab.page.evaluate(
        """() => { document.body.setAttribute("style", "background: red");
            const s = document.createElement("script"); s.textContent = "window.ran = 1";
            document.body.append(s); }"""
    )
    tab.page.wait_for_function("() => window.tzzrViolations.length >= 2")
    directives = " ".join(tab.violations())
    assert "style-src-attr" in directives and "script-src-elem" in directives
    assert tab.page.evaluate("window.ran") is None


@pytest.mark.parametrize(
    "query", ["h=..%2Fapi%2Fadmin%2Fcells", "h=ABC", f"h={'0' * 63}", "h=" + "a" * 64 + "%3Fx"]
)
@pytest.mark.parametrize("path", ["/app/entry", "/app/enrich", "/app/ledger"])
def test_a_bad_h_in_the_link_fetches_nothing(tab: Tab, path: str, query: str) -> None:
    tab.requests.clear()
    tab.page.goto(f"{tab.url}{path}?{query}")
    tab.page.wait_for_load_state("networkidle")
    assert "64 hexadecimal digits" in tab.page.inner_text("#message")
    fetched = [r for r in tab.requests if not r.startswith(("/app", "/favicon"))]
    assert fetched == []


def send_offline_capture(tab: Tab, name: str, data: bytes) -> None:
    tab.page.goto(f"{tab.url}/app/capture")
    tab.page.wait_for_selector("#capture")
    tab.context.set_offline(True)
    tab.page.get_by_label("Or pick files").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": data}]
    )
    tab.page.get_by_role("button", name="Send").click()
    tab.page.wait_for_function(
        "() => document.getElementById('outbox').textContent.includes('waiting')"
    )


def wait_sent(tab: Tab, timeout: float = 20.0) -> None:
    """Until the page's outbox (IndexedDB, not the list drawn from it) holds nothing."""
    deadline = time.monotonic() + timeout
    while tab.queued():
        assert time.monotonic() < deadline, "the capture never left the outbox"
        time.sleep(0.1)


def assert_arrived(tab: Tab, server: Shape, before: int, data: bytes) -> None:
    """The capture is the one new entry, byte for byte, and the page broke no rule."""
    after = entries(server)
    assert len(after) == before + 1
    assert after[0]["contenedor"]["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert tab.violations() == [] and tab.script_errors() == []


def test_a_capture_refused_401_waits_for_a_new_key_then_retry(browser: Any, server: Shape) -> None:
    key, key_id = server.live.services.keys.create("deck", "admin")
    tab = Tab(browser, server, key)
    try:
        before = len(entries(server))
        data = f"kept through a revoked key {time.time()}".encode()
        send_offline_capture(tab, "revoked.txt", data)
        server.live.services.keys.revoke(key_id)
        tab.context.set_offline(False)
        tab.page.evaluate("window.dispatchEvent(new Event('online'))")
        item = tab.page.locator("#queued li", has_text="revoked.txt")
        item.locator(".error").wait_for()
        assert "this API key was revoked" in item.inner_text()  # the server's own message
        assert tab.queued() == 1 and len(entries(server)) == before
        tab.page.reload()  # kept in IndexedDB, message included; not retried by itself
        tab.page.wait_for_selector("#queued li .error")
        assert "revoked" in tab.page.inner_text("#queued li")
        assert tab.queued() == 1 and len(entries(server)) == before

        tab.page.locator("#queued li").get_by_role("link", name="Sign in again").click()
        tab.page.wait_for_url("**/app?expired")
        tab.sign_in(server.live.admin_key)
        tab.page.wait_for_url("**/app/capture")  # back where the capture waits
        tab.page.locator("#queued li", has_text="revoked.txt").get_by_role(
            "button", name="Retry"
        ).click()
        tab.page.wait_for_function("() => document.querySelectorAll('#queued li').length === 0")
        assert tab.queued() == 0
        assert_arrived(tab, server, before, data)
    finally:
        tab.close()


def test_a_capture_refused_413_stays_with_the_message_until_discarded(
    tab: Tab, server: Shape, tmp_path: Path
) -> None:
    before = len(entries(server))
    big = tmp_path / "too-big.bin"
    big.write_bytes(b"x" * (MAX_FILE + 1))
    tab.page.goto(f"{tab.url}/app/capture")
    tab.page.get_by_label("Or pick files").set_input_files(str(big))
    tab.page.get_by_role("button", name="Send").click()
    item = tab.page.locator("#queued li", has_text="too-big.bin")
    item.locator(".error").wait_for()
    message = f"a file is larger than the limit of {MAX_FILE} bytes"
    assert message in item.inner_text()
    assert message in tab.page.inner_text("#result")
    tab.page.reload()  # still there after a reload, and not sent again by itself
    tab.page.evaluate("window.dispatchEvent(new Event('online'))")
    tab.page.wait_for_load_state("networkidle")
    assert message in tab.page.inner_text("#queued li")
    assert tab.queued() == 1 and len(entries(server)) == before
    tab.page.locator("#queued li").get_by_role("button", name="Discard").click()
    tab.page.wait_for_function("() => document.querySelectorAll('#queued li').length === 0")
    assert tab.queued() == 0
    assert tab.page.inner_text("#outbox") == ""
    assert len(entries(server)) == before
    assert tab.violations() == []


def test_a_capture_waits_for_its_own_instance(browser: Any, server: Shape) -> None:
    """Made for deck, then deck signs out and corp signs in on the same browser: the
    capture is never sent to corp; back on deck it goes."""
    services = server.live.services
    if "corp" not in {i.name for i in services.instances.list()}:
        services.add_instance("corp", default_flows=False)
    corp_key, _ = services.keys.create("corp", "admin")
    tab = Tab(browser, server, server.live.admin_key)
    try:
        before = len(entries(server))
        data = f"deck's own capture {time.time()}".encode()
        tab.context.route("**/ingest", lambda route: route.abort())  # deck's upload is lost
        tab.page.goto(f"{tab.url}/app/capture")
        tab.page.wait_for_selector("#capture")
        tab.page.get_by_label("Or pick files").set_input_files(
            files=[{"name": "deck-only.txt", "mimeType": "text/plain", "buffer": data}]
        )
        tab.page.get_by_role("button", name="Send").click()
        tab.page.wait_for_function(
            "() => document.getElementById('outbox').textContent.includes('waiting')"
        )
        tab.page.goto(f"{tab.url}/app?signout")
        tab.sign_in(corp_key)
        tab.page.wait_for_url("**/app/capture")  # something waits
        tab.context.unroute("**/ingest")
        tab.page.evaluate("window.dispatchEvent(new Event('online'))")
        item = tab.page.locator("#queued li", has_text="deck-only.txt")
        item.locator(".error").wait_for()
        assert "another instance" in item.inner_text()
        with httpx.Client(
            base_url=tab.url, headers={"Authorization": f"Bearer {corp_key}"}
        ) as corp:
            assert corp.get("/entries").json()["entries"] == []  # nothing went to corp
        item.get_by_role("button", name="Retry").click()  # still corp: still held
        item.locator(".error").wait_for()
        assert tab.queued() == 1 and len(entries(server)) == before

        tab.page.goto(f"{tab.url}/app?signout")
        tab.sign_in(server.live.admin_key)
        tab.page.wait_for_url("**/app/capture")  # back on deck: it goes by itself
        # The list is empty for a moment while a fresh page reads its outbox: wait on the
        # outbox itself, which lets a capture go only after the server's 200.
        wait_sent(tab)
        assert_arrived(tab, server, before, data)
    finally:
        tab.close()
