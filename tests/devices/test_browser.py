"""In Chromium: lib/address.js computes the address the server computes, lib/device.js
makes and registers this browser's key at sign-in (Ed25519, or P-256 where Ed25519 is
missing), signs a capture the server accepts, and the ledger explorer verifies the
receipt with its device signature (and refuses a tampered one)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cells.test_viewer import ARGS, CHROMIUM
from tests.conftest import IN_CI, Live, make_settings, running
from tzzr.canonical import h_entrada

# Containers whose canonical JSON is easy to get wrong: non-ASCII, numbers in ECMAScript
# form, nested objects, keys in UTF-16 order (an astral character sorts before U+FB01).
CONTAINERS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    ({}, []),
    (
        {
            "title": "ñandú — 東京 😀",
            "numbers": [1e21, 1e-7, 0.1, 0.30000000000000004, -0.0, 5e-324, 2**53 - 1, -1.5e300],
            "nested": {"b": {"z": 1, "a": [True, None, False]}, "a": '\u0001\u001f"\\/\t\u2028'},
            "\U0001f600": 2,
            "\ufb01": 3,
            "€": 1,
            "": 0,
            "A": 1,
            "a": 2,
        },
        [{"name": "foto é.jpg", "media_type": "image/jpeg", "sha256": "ab" * 32, "size": 1234}],
    ),
    (
        {"amount": 12.5, "tags": ["receipt", "café"], "deep": {"x": {"y": {"z": []}}}},
        [
            {"name": "a.txt", "media_type": "text/plain", "sha256": "00" * 32, "size": 0},
            {"name": "b.ogg", "media_type": "audio/ogg", "sha256": "ff" * 32, "size": 2**40},
        ],
    ),
]
NO_ED25519 = """
const generate = crypto.subtle.generateKey.bind(crypto.subtle);
crypto.subtle.generateKey = (algorithm, ...rest) =>
  algorithm && algorithm.name === "Ed25519"
    ? Promise.reject(new DOMException("not supported", "NotSupportedError"))
    : generate(algorithm, ...rest);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with running(make_settings(tmp_path_factory.mktemp("devices-web"))) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Debian's chromium is needed (make test installs it)")
        pytest.skip("Debian's chromium is needed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def signed_in(browser: Any, server: Live, init_script: str | None = None) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    if init_script:
        context.add_init_script(init_script)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{server.url}/app")
    tab.get_by_label("API key").fill(server.admin_key)
    tab.keyboard.press("Enter")
    tab.wait_for_url("**/app/inbox")
    assert errors == []
    return context, tab


def test_address_js_computes_the_servers_h_entrada(browser: Any, server: Live) -> None:
    context, tab = signed_in(browser, server)
    try:
        found = tab.evaluate(
            """async (containers) => {
                const address = await import("/app/static/lib/address.js");
                const out = [];
                for (const [metadata, files] of containers) out.push(await address.hEntrada(metadata, files));
                const seen = [];
                const blob = new Blob([new Uint8Array(9 * 1024 * 1024 + 7).fill(7)]);
                out.push(await address.sha256Blob(blob, (done, total) => seen.push([done, total])));
                const engine = address.lastEngine;
                out.push(await address.sha256Blob(new Blob([])));
                const worker = window.Worker;
                window.Worker = undefined; // a browser without workers: hashed on the page
                const onPage = await address.sha256Blob(blob);
                window.Worker = worker;
                return { out, seen, engine, onPage, fallback: address.lastEngine };
            }""",
            CONTAINERS,
        )
    finally:
        context.close()
    import hashlib

    assert found["out"][:-2] == [h_entrada(m, f) for m, f in CONTAINERS]
    assert found["out"][-2] == hashlib.sha256(bytes([7]) * (9 * 1024 * 1024 + 7)).hexdigest()
    assert found["out"][-1] == hashlib.sha256(b"").hexdigest()
    # in the worker, with WebAssembly: the page's CSP (no 'wasm-unsafe-eval') is not relaxed
    assert found["engine"] == "wasm"
    assert (found["onPage"], found["fallback"]) == (found["out"][-2], "page")
    total = 9 * 1024 * 1024 + 7
    assert found["seen"][-1] == [total, total] and len(found["seen"]) == 3  # 4 MiB slices


SIGN_AND_SEND = """async ({ metadata, content }) => {
    const { hEntrada, sha256Blob } = await import("/app/static/lib/address.js");
    const { ensureDevice, deviceSignature } = await import("/app/static/lib/device.js");
    const again = await ensureDevice();  // made at sign-in: the same device again
    const bytes = new TextEncoder().encode(content);
    const file = { name: "note.txt", media_type: "text/plain", sha256: await sha256Blob(new Blob([bytes])), size: bytes.length };
    const h = await hEntrada(metadata, [file]);
    const device = await deviceSignature(h);
    const response = await fetch("/ingest", {
      method: "POST",
      headers: { Authorization: `Bearer ${localStorage.getItem("tzzr.key")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ metadata, device, files: [{ name: file.name, media_type: file.media_type, content: btoa(content) }] }),
    });
    return { again, h, device, status: response.status, body: await response.json() };
}"""


@pytest.mark.parametrize("alg", ["Ed25519", "ES256"])
def test_a_browser_signs_a_capture_and_the_ledger_page_verifies_it(
    browser: Any, server: Live, alg: str, tmp_path: Path
) -> None:
    context, tab = signed_in(browser, server, NO_ED25519 if alg == "ES256" else None)
    try:
        with server.client() as client:
            devices = client.get("/devices").json()["devices"]
        mine = [d for d in devices if d["alg"] == alg and d["revoked_at"] is None]
        assert mine, devices  # registered at sign-in
        sent = tab.evaluate(
            SIGN_AND_SEND, {"metadata": {"note": f"signed in {alg}"}, "content": alg}
        )
        assert sent["status"] == 200, sent
        assert sent["again"]["alg"] == alg and sent["device"]["id"] == sent["again"]["id"]
        assert sent["device"]["id"] in {d["id"] for d in mine}
        assert sent["body"]["h_entrada"] == sent["h"]
        with server.client() as client:
            assert client.post("/consolidate").status_code == 200
            receipt = client.get(f"/receipt/{sent['h']}").json()
        assert json.loads(receipt["leaf"])["device"] == sent["device"]["id"]

        tab.goto(f"{server.url}/app/ledger?h={sent['h']}")
        verdict = tab.locator("#verdict")
        verdict.filter(has_text="VALID").wait_for()
        text = verdict.text_content() or ""
        assert text.startswith("VALID") and f"({alg}, key {sent['device']['id'][:16]}" in text
        tab.screenshot(path=str(tmp_path / f"ledger-{alg}.png"))
        refused = tab.evaluate(
            """async () => {
                const copy = JSON.parse(JSON.stringify(window.tzzrLastReceipt));
                const sig = copy.device.signature;
                copy.device.signature = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
                const leaf = JSON.parse(copy.leaf);
                const outcomes = [];
                for (const bad of [copy, { ...copy, device: { ...copy.device, signature: leaf.device_sig, public_key: copy.device.public_key.slice(0, -4) + "AAA=" } }]) {
                  try { await window.tzzrVerify.verifyReceipt(bad); outcomes.push("accepted"); }
                  catch (error) { outcomes.push(error.message); }
                }
                return outcomes;
            }"""
        )
        assert "not the one sealed" in refused[0]
        assert "hashes to" in refused[1]

        tab.goto(f"{server.url}/app/entry?h={sent['h']}")
        tab.locator("#device").filter(has_text="Captured on").wait_for()
        assert f"({alg})" in (tab.locator("#device").text_content() or "")
    finally:
        context.close()


def test_the_server_refuses_a_capture_signed_for_another_address(
    browser: Any, server: Live
) -> None:
    context, tab = signed_in(browser, server)
    try:
        answer = tab.evaluate(
            """async () => {
                const { deviceSignature } = await import("/app/static/lib/device.js");
                const device = await deviceSignature("00".repeat(32));
                const response = await fetch("/ingest", {
                  method: "POST",
                  headers: { Authorization: `Bearer ${localStorage.getItem("tzzr.key")}`, "Content-Type": "application/json" },
                  body: JSON.stringify({ metadata: { note: "mismatch" }, device, files: [] }),
                });
                return { status: response.status, body: await response.json() };
            }"""
        )
    finally:
        context.close()
    assert answer["status"] == 422
    assert answer["body"]["error"]["field"] == "device.signature"
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/devices").status_code == 401
