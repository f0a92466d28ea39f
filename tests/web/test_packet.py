"""PACKET, the installable capture app, in a real Chromium (Debian's, through Playwright)
over a real server: the manifest and its icons, the service worker and Chromium's own
installability check (CDP `Page.getInstallabilityErrors`), the app shell with the network
off, the share target (with and without the worker), and tus-js-client's uploads resumed
after a network cut, a closed tab and a reload. Each test is a fresh browser profile (a
persistent context: Chromium refuses to install an app in an incognito-like one)."""

import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.cells.test_viewer import ARGS, CHROMIUM
from tests.conftest import IN_CI, Live, make_settings, running
from tzzr.ledger.receipt import verify

KiB = 1024
MiB = 1024 * KiB
TUS = {"Tus-Resumable": "1.0.0"}
# Runs before any script of the page: what the CSP refused.
WATCH = """
window.tzzrViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.tzzrViolations.push(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`), true);
"""
OUTBOX = """() => new Promise((resolve, reject) => { const r = indexedDB.open("tzzr", 1);
  r.onsuccess = () => { const s = r.result.transaction("outbox").objectStore("outbox").getAll();
    s.onsuccess = () => resolve(s.result.map((item) => ({ files: item.files.map((f) => f.name),
      metadata: item.metadata, parts: item.parts || null, error: item.error || null,
      shared: Boolean(item.shared) }))); };
  r.onerror = () => reject(r.error); })"""


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is needed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


def serve(tmp_path_factory: pytest.TempPathFactory, shape: str) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp(shape), shape)) as live:
        yield live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve(tmp_path_factory, "sqlite-local")


class Phone:
    """A phone-sized Chromium with a profile of its own (what it keeps survives a closed
    tab), signed in as `live`'s admin through the sign-in page, which also registers this
    browser's device key. Records the requests it makes anywhere but the server."""

    def __init__(
        self,
        playwright: Any,
        live: Live,
        profile: Path,
        extra: tuple[str, ...] = (),
        key: str | None = None,  # "": signed in already (the profile is reopened)
    ) -> None:
        self.live = live
        self.url = live.url
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=[*ARGS, *extra],
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        self.context.add_init_script(WATCH)
        self.outside: list[str] = []
        self.errors: list[str] = []
        own = (self.url, f"blob:{self.url}/")
        self.context.on(
            "request", lambda r: None if r.url.startswith(own) else self.outside.append(r.url)
        )
        self.page = self.tab(first=True)
        if key == "":  # a profile that signed in before: what it keeps is still there
            return
        self.page.goto(f"{self.url}/app")
        self.sign_in(key or live.admin_key)
        self.page.wait_for_url("**/app/inbox")

    def sign_in(self, key: str) -> None:
        self.page.get_by_label("API key").fill(key)
        self.page.keyboard.press("Enter")

    def tab(self, first: bool = False) -> Any:
        page = self.context.pages[0] if first and self.context.pages else self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def capture_page(self) -> None:
        """The capture page, controlled by the installed and active service worker."""
        self.page.goto(f"{self.url}/app/capture")
        self.page.wait_for_selector("#capture")
        self.page.wait_for_function(
            "() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"
        )

    def outbox(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.page.evaluate(OUTBOX)
        return found

    def tune(self, chunk: int, inline: int = 0) -> None:
        """The outbox's chunk size and inline limit on this page (the module the page runs)."""
        self.page.evaluate(
            """([chunk, inline]) => import("/app/static/lib/outbox.js").then((m) => {
                m.settings.chunkSize = chunk; m.settings.inlineBytes = inline;
                m.settings.retryDelays = [0, 200, 500]; })""",
            [chunk, inline],
        )

    def violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.tzzrViolations")
        return found

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def phone(playwright: Any, server: Live, tmp_path: Path) -> Iterator[Phone]:
    opened = Phone(playwright, server, tmp_path / "profile")
    yield opened
    assert opened.outside == []  # nothing from a CDN or anywhere else
    assert opened.errors == []
    opened.close()


def test_the_manifest_parses_and_names_its_icons(server: Live) -> None:
    response = httpx.get(f"{server.url}/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["start_url"] == "/app/capture" and manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone" and manifest["short_name"] == "TZZR"
    purposes = set()
    for icon in manifest["icons"]:
        served = httpx.get(f"{server.url}{icon['src']}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert Image.open(io.BytesIO(served.content)).size == (width, height)
        purposes.add((width, icon.get("purpose", "any")))
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= purposes
    share = manifest["share_target"]
    assert share["action"] == "/app/share" and share["method"] == "POST"
    assert (
        share["enctype"] == "multipart/form-data" and share["params"]["files"][0]["name"] == "files"
    )
    worker = httpx.get(f"{server.url}/app/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    shell = json.loads(worker.text.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
    assert "/app/capture" in shell and "/app/static/vendor/tus/tus.min.js" in shell
    for path in shell:  # every file the worker precaches is served (or installing fails)
        assert httpx.get(f"{server.url}{path}").status_code == 200, path
    assert not [p for p in shell if not p.startswith("/app/")]  # no API answer is cached


def test_chromium_finds_the_app_installable(phone: Phone) -> None:
    phone.capture_page()
    cdp = phone.context.new_cdp_session(phone.page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == f"{phone.url}/app/manifest.webmanifest"
    assert manifest["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
    scope = phone.page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{phone.url}/app/"
    assert phone.violations() == []


CACHED = """() => caches.keys().then((names) => Promise.all(names.map((name) =>
  caches.open(name).then((cache) => cache.keys()).then((requests) =>
    requests.map((r) => `${name} ${new URL(r.url).pathname}${new URL(r.url).search}`)))))
  .then((lists) => lists.flat())"""


def test_the_app_shell_loads_with_the_network_off(phone: Phone) -> None:
    phone.capture_page()
    phone.page.goto(f"{phone.url}/app/inbox")  # the inbox fetches entries: data, not cached
    phone.page.wait_for_load_state("networkidle")
    cached = phone.page.evaluate(CACHED)
    assert cached and all(line.startswith("tzzr-shell-") for line in cached)
    paths = {line.split(" ", 1)[1] for line in cached}
    assert {"/app/capture", "/app/inbox", "/app/static/lib/outbox.js"} <= paths
    assert not [p for p in paths if "?" in p]  # one copy a page, whatever its query
    assert not [p for p in paths if not p.startswith("/app/")]  # no API answer is kept
    phone.context.set_offline(True)
    # the network is truly off for the page: the API cannot be reached
    assert (
        phone.page.evaluate("fetch('/health').then(() => 'reached', () => 'offline')") == "offline"
    )
    for path, title in (
        ("/app/capture", "Capture"),
        ("/app/inbox", "Inbox"),
        ("/app/entry?h=0", "Entry"),
    ):
        response = phone.page.goto(f"{phone.url}{path}")
        assert response is not None and response.from_service_worker, path
        assert phone.page.inner_text("#title") == title
    phone.page.goto(f"{phone.url}/app/capture")
    phone.page.reload()
    phone.page.get_by_label("Notes").wait_for()
    assert phone.page.get_by_role("button", name="Send").is_visible()
    assert phone.violations() == []
    phone.context.set_offline(False)


def share_form(phone: Phone, files: list[dict[str, Any]], title: str) -> None:
    """What the share sheet does: a navigation that POSTs multipart/form-data to the
    manifest's share_target action, its fields named as the manifest says."""
    phone.page.evaluate(
        """(title) => { const f = document.createElement("form");
            f.method = "post"; f.enctype = "multipart/form-data"; f.action = "/app/share";
            f.id = "shared-form";
            const t = document.createElement("input"); t.name = "title"; t.value = title;
            const i = document.createElement("input"); i.type = "file"; i.name = "files"; i.multiple = true;
            i.id = "shared-files"; f.append(t, i); document.body.append(f); }""",
        title,
    )
    phone.page.set_input_files("#shared-files", files=files)
    with phone.page.expect_navigation(url="**/app/capture?shared=*"):
        phone.page.evaluate("document.getElementById('shared-form').submit()")


def test_a_shared_file_lands_in_the_outbox_and_is_sent(phone: Phone) -> None:
    phone.capture_page()
    data = f"shared from the gallery {time.time()}".encode()
    phone.context.set_offline(True)  # so that it stays in the outbox to be seen there
    share_form(
        phone, [{"name": "shared.txt", "mimeType": "text/plain", "buffer": data}], "Lunch receipt"
    )
    assert "1 shared file(s)" in phone.page.inner_text("#result")
    [kept] = phone.outbox()
    assert kept["files"] == ["shared.txt"] and kept["shared"]
    assert kept["metadata"] == {"source": "share", "note": "Lunch receipt"}
    phone.page.locator("#queued li", has_text="shared.txt").wait_for()
    phone.context.set_offline(False)
    phone.page.evaluate("window.dispatchEvent(new Event('online'))")
    phone.page.locator("#safe li", has_text="shared.txt").wait_for()
    assert phone.outbox() == []
    h = phone.page.get_attribute("#safe li", "data-h")
    with phone.live.client() as client:
        entry = client.get(f"/entries/{h}").json()
    assert entry["contenedor"]["metadata"] == {"source": "share", "note": "Lunch receipt"}
    assert entry["contenedor"]["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_share_posted_without_the_worker_is_answered_with_the_capture_page(server: Live) -> None:
    response = httpx.post(
        f"{server.url}/app/share",
        data={"title": "t"},
        files=[("files", ("a.txt", b"x" * 1000, "text/plain"))],
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/app/capture?share=unready"
    assert httpx.get(f"{server.url}{response.headers['location']}").status_code == 200


class Watch:
    """What the phone sends to /uploads: bytes PATCHed, the offsets HEAD answered; and a
    route that acts on the nth PATCH (before it reaches the server)."""

    def __init__(self, phone: Phone) -> None:
        self.patched = 0
        self.patches = 0
        self.resumed_at: list[int] = []
        self.actions: dict[int, Callable[[Any], None]] = {}
        phone.context.on("request", self.request)
        phone.context.on("response", self.response)
        phone.context.route("**/uploads/*", self.route)

    def request(self, request: Any) -> None:
        if request.method == "PATCH" and "/uploads/" in request.url:
            self.patched += len(request.post_data_buffer or b"")

    def response(self, response: Any) -> None:
        if response.request.method == "HEAD" and "/uploads/" in response.url:
            self.resumed_at.append(int(response.headers.get("upload-offset", "-1")))

    def route(self, route: Any) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        self.patches += 1
        action = self.actions.pop(self.patches, None)
        if action is None:
            route.continue_()
        else:
            action(route)


def server_offset(live: Live, location: str) -> int:
    with live.client() as client:
        answer = client.head(location, headers=TUS)
    assert answer.status_code == 200, answer.text
    return int(answer.headers["upload-offset"])


def wait_until(phone: Phone, done: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        phone.page.wait_for_timeout(50)


def capture(phone: Phone, data: bytes, name: str) -> None:
    phone.page.get_by_label("Or pick files").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": data}]
    )
    phone.page.get_by_role("button", name="Send").click()


def test_an_upload_resumes_after_a_network_cut_a_closed_tab_and_a_reload(phone: Phone) -> None:
    data = os.urandom(6 * MiB)
    phone.capture_page()
    phone.tune(chunk=256 * KiB)
    watch = Watch(phone)

    def cut(route: Any) -> None:  # the network goes mid-upload, this PATCH with it
        phone.context.set_offline(True)
        route.abort("internetdisconnected")

    watch.actions[6] = cut
    capture(phone, data, "scan.pdf")
    phone.page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('offline')"
    )
    [kept] = phone.outbox()
    location = kept["parts"][0]["url"]
    assert location and kept["parts"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    stopped = server_offset(phone.live, location)
    assert stopped == 5 * 256 * KiB  # five chunks arrived before the cut

    phone.page.close()  # the tab is closed while offline; a new one opens from the cache
    phone.page = phone.tab()
    phone.capture_page()
    phone.page.locator("#queued li", has_text="scan.pdf").wait_for()
    phone.tune(chunk=256 * KiB)
    reload = {"asked": False}

    def reload_soon(route: Any) -> None:  # online again: the tab is reloaded mid-upload
        reload["asked"] = True
        route.continue_()

    watch.actions[12] = reload_soon
    phone.context.set_offline(False)
    phone.page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until(phone, lambda: reload["asked"], "the upload went on after the network came back")
    phone.page.reload()  # the page flushes its outbox on load: the upload goes on
    phone.page.locator("#safe li", has_text="scan.pdf").wait_for(timeout=60000)

    assert phone.outbox() == []
    # resumed from the server's offset each time (HEAD), never from zero
    assert len(watch.resumed_at) >= 2 and all(offset > 0 for offset in watch.resumed_at[:2])
    assert watch.resumed_at[0] == stopped
    assert watch.patched < 2 * len(data)
    h = phone.page.get_attribute("#safe li", "data-h")
    with phone.live.client() as client:
        entry = client.get(f"/entries/{h}").json()
        [described] = entry["contenedor"]["files"]
        assert described["sha256"] == hashlib.sha256(data).hexdigest()
        assert described["size"] == len(data)
        blob = client.get(f"/blobs/{described['sha256']}")
    assert (
        blob.status_code == 200
        and hashlib.sha256(blob.content).digest() == hashlib.sha256(data).digest()
    )
    assert phone.violations() == []


def test_background_sync_asks_the_page_to_send_the_outbox(phone: Phone) -> None:
    """A capture that could not go registers the sync tag; the browser's sync event (sent
    here through CDP, as Chromium sends it when the network is back) reaches the worker,
    which asks the open page to send the outbox."""
    phone.capture_page()
    phone.context.route("**/ingest", lambda route: route.abort("internetdisconnected"))
    data = f"synced {time.time()}".encode()
    capture(phone, data, "synced.txt")
    phone.page.wait_for_function(  # tried, and kept
        "() => document.getElementById('result').textContent.includes('offline')"
    )
    phone.page.locator("#queued li", has_text="synced.txt").wait_for()
    # A page that loaded before its worker was active is not always claimed by it here
    # (Chromium under Playwright's routing): opened again, it is the worker's. Its own
    # send on opening still meets the cut network, so the capture still waits.
    if not phone.page.evaluate("navigator.serviceWorker.controller !== null"):
        phone.page.reload()
        phone.page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        phone.page.locator("#queued li", has_text="synced.txt").wait_for()
    tags = phone.page.evaluate("navigator.serviceWorker.ready.then((r) => r.sync.getTags())")
    assert "tzzr-outbox" in tags
    phone.page.evaluate(
        """() => navigator.serviceWorker.addEventListener("message", (e) => {
            if (e.data && e.data.type === "tzzr.flush") window.tzzrFlushAsked = true; })"""
    )
    phone.context.unroute("**/ingest")
    cdp = phone.context.new_cdp_session(phone.page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if r["scopeURL"].endswith("/app/")
        ),
    )
    cdp.send("ServiceWorker.enable")
    wait_until(phone, lambda: bool(registrations), "the worker's registration is listed")
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": phone.url,
            "registrationId": registrations[0],
            "tag": "tzzr-outbox",
            "lastChance": False,
        },
    )
    phone.page.locator("#safe li", has_text="synced.txt").wait_for(timeout=20000)
    assert phone.page.evaluate("window.tzzrFlushAsked === true")
    assert phone.outbox() == []


@pytest.fixture(scope="module")
def scaleout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve(tmp_path_factory, "postgresql-s3")


@pytest.mark.parametrize("shape", ["sqlite-local", "postgresql-s3"])
def test_a_phone_installs_the_app_captures_and_finishes_after_the_network_returns(
    playwright: Any, request: pytest.FixtureRequest, tmp_path: Path, shape: str
) -> None:
    """The issue's "done when": a phone-sized Chromium finds the app installable, takes
    a photo, loses the network mid-upload, finishes when it returns, and the entry's
    receipt names the device that signed it, verified offline and in the ledger page."""
    live: Live = request.getfixturevalue("server" if shape == "sqlite-local" else "scaleout")
    phone = Phone(playwright, live, tmp_path / "profile")
    try:
        phone.capture_page()
        cdp = phone.context.new_cdp_session(phone.page)
        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
        noise = Image.effect_noise((1600, 1200), 90).convert("RGB")
        photo = io.BytesIO()
        noise.save(photo, "JPEG", quality=95)
        data = photo.getvalue()
        assert len(data) > 1 * MiB
        phone.tune(chunk=128 * KiB)
        watch = Watch(phone)

        def cut(route: Any) -> None:
            phone.context.set_offline(True)
            route.abort("internetdisconnected")

        watch.actions[4] = cut
        phone.page.get_by_label("Take or choose a photo").set_input_files(
            files=[{"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": data}]
        )
        phone.page.get_by_role("button", name="Send").click()
        phone.page.wait_for_function(
            "() => document.getElementById('result').textContent.includes('offline')"
        )
        [kept] = phone.outbox()
        assert server_offset(live, kept["parts"][0]["url"]) == 3 * 128 * KiB
        phone.context.set_offline(False)
        phone.page.evaluate("window.dispatchEvent(new Event('online'))")
        phone.page.locator("#safe li", has_text="receipt.jpg").wait_for(timeout=60000)
        assert watch.resumed_at[0] == 3 * 128 * KiB and watch.patched < 2 * len(data)
        h = phone.page.get_attribute("#result", "data-h")
        assert phone.page.inner_text("#result").startswith("Captured:")
        with live.client() as client:
            devices = client.get("/devices").json()["devices"]
            assert client.post("/consolidate").status_code == 200
            receipt = client.get(f"/receipt/{h}").json()
            keys = [k["verifier_key"] for k in client.get("/ledger/key").json()["keys"]]
            blob = client.get(f"/blobs/{hashlib.sha256(data).hexdigest()}")
        assert blob.content == data
        assert (
            receipt["entry"]["contenedor"]["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
        )
        # this browser's key, registered when it signed in, signed the capture
        device = next(d for d in devices if d["id"] == receipt["device"]["id"])
        assert device["revoked_at"] is None
        found = verify(receipt, trusted_keys=keys)
        assert found.device is not None and found.device.key_id == device["id"]
        phone.page.goto(f"{live.url}/app/ledger?h={h}")
        verdict = phone.page.locator("#verdict")
        verdict.filter(has_text="VALID").wait_for()
        assert device["id"][:16] in (verdict.text_content() or "")
        phone.page.screenshot(path=str(tmp_path / "done.png"))
        assert phone.violations() == [] and phone.outside == [] and phone.errors == []
    finally:
        phone.close()


def test_the_camera_input_and_a_voice_note_recorded_on_the_phone(
    playwright: Any, server: Live, tmp_path: Path
) -> None:
    """The photo input asks for the rear camera; the recorder records from the microphone
    (Chromium's fake one, a beep), shows a player, and the voice note is sent."""
    fake = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
    phone = Phone(playwright, server, tmp_path / "profile", fake)
    try:
        phone.context.grant_permissions(["microphone"], origin=server.url)
        phone.capture_page()
        photo = phone.page.get_by_label("Take or choose a photo")
        assert photo.get_attribute("capture") == "environment"
        assert photo.get_attribute("accept") == "image/*"
        record = phone.page.get_by_role("button", name="Record audio")
        record.click()
        phone.page.get_by_role("button", name="Stop recording").wait_for()
        phone.page.wait_for_function(
            "() => /recording… [2-9] s/.test(document.getElementById('recorded').textContent)"
        )
        phone.page.get_by_role("button", name="Stop recording").click()
        phone.page.wait_for_function(
            "() => document.getElementById('recorded').textContent.startsWith('recorded')"
        )
        assert phone.page.get_by_label("The recording").is_visible()
        phone.page.get_by_label("Notes").fill("voice note")
        phone.page.get_by_role("button", name="Send").click()
        phone.page.locator("#safe li", has_text="voice-").wait_for()
        h = phone.page.get_attribute("#result", "data-h")
        with server.client() as client:
            [voice] = client.get(f"/entries/{h}").json()["contenedor"]["files"]
        assert voice["name"].startswith("voice-") and voice["name"].endswith(".webm")
        assert voice["media_type"] == "audio/webm" and voice["size"] > 1000
        assert phone.errors == [] and phone.violations() == []
    finally:
        phone.close()


def test_an_upload_refused_413_or_401_waits_with_the_message_and_resumes_after_sign_in(
    playwright: Any, tmp_path: Path
) -> None:
    """Through tus too, an answer that retrying will not change keeps the capture with the
    server's message: a file over the limit (413 at creation) until it is discarded; an
    upload whose key was revoked mid-way (401) until the person signs in again and
    retries, when it goes on from the server's offset under the new key."""
    limit = 3 * MiB // 2
    with running(make_settings(tmp_path / "home", max_file_bytes=limit)) as live:
        key, key_id = live.services.keys.create("deck", "ingest")
        phone = Phone(playwright, live, tmp_path / "profile", key=key)
        try:
            phone.capture_page()
            phone.tune(chunk=256 * KiB)
            capture(phone, os.urandom(2 * MiB), "too-big.pdf")
            item = phone.page.locator("#queued li", has_text="too-big.pdf")
            item.locator(".error").wait_for()
            message = f"is larger than the limit of {limit}"
            assert message in item.inner_text() and message in phone.page.inner_text("#result")
            item.get_by_role("button", name="Discard").click()
            phone.page.wait_for_function("() => !document.querySelector('#queued li')")

            watch = Watch(phone)

            def cut(route: Any) -> None:
                phone.context.set_offline(True)
                route.abort("internetdisconnected")

            watch.actions[3] = cut
            data = os.urandom(5 * MiB // 4)
            capture(phone, data, "revoked.pdf")
            phone.page.wait_for_function(
                "() => document.getElementById('result').textContent.includes('offline')"
            )
            live.services.keys.revoke(key_id)
            phone.context.set_offline(False)
            phone.page.evaluate("window.dispatchEvent(new Event('online'))")
            item = phone.page.locator("#queued li", has_text="revoked.pdf")
            item.locator(".error").wait_for()
            assert "revoked" in item.inner_text()  # the server's own message
            [kept] = phone.outbox()
            assert (
                kept["parts"][0]["url"]
                and server_offset(live, kept["parts"][0]["url"]) == 2 * 256 * KiB
            )

            item.get_by_role("link", name="Sign in again").click()
            phone.page.wait_for_url("**/app?expired")
            phone.sign_in(live.admin_key)
            phone.page.wait_for_url("**/app/capture")  # where the capture waits
            phone.tune(chunk=256 * KiB)
            heads = len(watch.resumed_at)
            phone.page.locator("#queued li", has_text="revoked.pdf").get_by_role(
                "button", name="Retry"
            ).click()
            phone.page.locator("#safe li", has_text="revoked.pdf").wait_for()
            assert watch.resumed_at[heads] == 2 * 256 * KiB  # not from zero
            h = phone.page.get_attribute("#safe li", "data-h")
            with live.client() as client:
                [sent] = client.get(f"/entries/{h}").json()["contenedor"]["files"]
            assert sent["sha256"] == hashlib.sha256(data).hexdigest()
            assert phone.errors == [] and phone.violations() == []
        finally:
            phone.close()


def test_a_capture_whose_upload_is_gone_before_its_ingest_sends_the_file_again(
    phone: Phone,
) -> None:
    """The file was all sent, then POST /ingest could not go, and the upload was
    terminated (or expired) before it could: the server answers 422 naming the file's
    sha256; the outbox sends that file again as a new upload, and the capture arrives."""
    phone.capture_page()
    phone.tune(chunk=512 * KiB)
    phone.context.route("**/ingest", lambda route: route.abort("internetdisconnected"))
    data = os.urandom(3 * MiB // 2)
    capture(phone, data, "late.pdf")
    phone.page.wait_for_function(
        "() => document.getElementById('result').textContent.includes('offline')"
    )
    [kept] = phone.outbox()
    location = kept["parts"][0]["url"]
    assert server_offset(phone.live, location) == len(data)  # all there, not ingested
    with phone.live.client() as client:
        assert client.delete(location, headers=TUS).status_code == 204
    phone.context.unroute("**/ingest")
    watch = Watch(phone)
    phone.page.evaluate("window.dispatchEvent(new Event('online'))")
    phone.page.locator("#safe li", has_text="late.pdf").wait_for()
    assert watch.patched == len(data)  # sent once more, whole
    h = phone.page.get_attribute("#safe li", "data-h")
    with phone.live.client() as client:
        [sent] = client.get(f"/entries/{h}").json()["contenedor"]["files"]
    assert sent["sha256"] == hashlib.sha256(data).hexdigest()


def test_an_upload_resumes_after_the_browser_is_closed_and_opened_again(
    playwright: Any, server: Live, tmp_path: Path
) -> None:
    """What a reboot does to the app: the browser goes away mid-upload; opened again on
    the same profile, the capture is still in the outbox and goes on from the offset."""
    data = os.urandom(2 * MiB)
    phone = Phone(playwright, server, tmp_path / "profile")
    try:
        phone.capture_page()
        phone.tune(chunk=256 * KiB)
        watch = Watch(phone)

        def cut(route: Any) -> None:
            phone.context.set_offline(True)
            route.abort("internetdisconnected")

        watch.actions[4] = cut
        capture(phone, data, "before-reboot.pdf")
        phone.page.wait_for_function(
            "() => document.getElementById('result').textContent.includes('offline')"
        )
        [kept] = phone.outbox()
    finally:
        phone.close()
    assert server_offset(server, kept["parts"][0]["url"]) == 3 * 256 * KiB
    again = Phone(playwright, server, tmp_path / "profile", key="")
    try:
        watch = Watch(again)
        again.capture_page()  # opening the app sends its outbox
        again.page.locator("#safe li", has_text="before-reboot.pdf").wait_for()
        assert watch.resumed_at[0] == 3 * 256 * KiB
        assert watch.patched == len(data) - 3 * 256 * KiB
        assert again.outbox() == [] and again.errors == []
    finally:
        again.close()
