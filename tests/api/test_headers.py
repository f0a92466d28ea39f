"""Security headers over HTTP, on every backend: a strict CSP and frame protection on
every page, nosniff and no-referrer on everything, and blobs of active types (HTML, SVG,
XML, JavaScript, PDF, unknown) as sandboxed attachments while passive ones stay inline."""

import hashlib
import json
import os
import uuid

import httpx
import pytest
from fastapi.routing import APIRoute

from tests.conftest import Live
from tzzr.api import web
from tzzr.api.headers import is_passive, stored_content_headers

PAGES = sorted(
    route.path
    for route in web.router.routes
    if isinstance(route, APIRoute) and "GET" in (route.methods or ())
)
DIRECTIVES = {
    "default-src": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def policy(header: str) -> dict[str, str]:
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";") if part.strip())


def assert_everywhere(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_pages_are_found() -> None:
    # the list comes from the router, so a new page is covered; it must not come up empty
    assert {"/app", "/app/capture", "/app/entry", "/app/viewer"} <= set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_csp_and_no_framing(live: Live, path: str) -> None:
    response = httpx.get(f"{live.url}{path}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_everywhere(response)
    assert response.headers["x-frame-options"] == "DENY"
    found = policy(response.headers["content-security-policy"])
    for directive, value in DIRECTIVES.items():
        assert found.get(directive) == value, (directive, found)
    header = response.headers["content-security-policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert "*" not in header and "http:" not in header
    # nothing inline for the CSP to block: no <style>, no style= and no on…= attributes
    html = response.text.lower()
    assert "<style" not in html and " style=" not in html and " onsubmit=" not in html
    assert "<script>" not in html  # every script has a src


@pytest.mark.parametrize(
    "path", ["/health", "/entries", "/app/static/pages/inbox.js", "/no/such/page"]
)
def test_every_other_answer_has_nosniff_and_no_referrer(live: Live, path: str) -> None:
    with live.client() as client:
        response = client.get(path)
    assert_everywhere(response)
    assert "x-frame-options" not in response.headers  # a page's header, not JSON's
    with live.client(key="tzzr_0000_wrong") as wrong:
        refused = wrong.get("/entries")
    assert refused.status_code == 401
    assert_everywhere(refused)


ACTIVE = [
    ("page.html", "text/html", b"<script>alert(localStorage.getItem('tzzr.key'))</script>"),
    ("page.xhtml", "application/xhtml+xml", b'<html xmlns="http://www.w3.org/1999/xhtml"/>'),
    ("logo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ("data.xml", "text/xml", b"<?xml version='1.0'?><a/>"),
    ("feed.xml", "application/atom+xml", b"<feed/>"),
    ("app.js", "text/javascript", b"fetch('/entries')"),
    ("doc.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
    ("thing.bin", "application/x-unknown", b"\x00\x01"),
]
PASSIVE = [
    ("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(64)),
    ("note.wav", "audio/wav", b"RIFF" + os.urandom(64)),
    ("data.json", "application/json", b'{"a": 1}'),
    ("note.txt", "text/plain", b"<script>not run: shown as text</script>"),
]


@pytest.fixture(scope="module")
def blobs(live: Live) -> dict[str, tuple[str, str]]:
    """file name -> (sha256, media type), captured one container each (the test server
    allows few files per container)."""
    found = {}
    with live.client() as client:
        for name, kind, body in ACTIVE + PASSIVE:
            data = body + uuid.uuid4().bytes
            response = client.post(
                "/ingest",
                data={"metadata": json.dumps({"test": uuid.uuid4().hex})},
                files=[("file", (name, data, kind))],
            )
            assert response.status_code == 200, response.text
            found[name] = (hashlib.sha256(data).hexdigest(), kind)
    return found


@pytest.mark.parametrize("name", [name for name, _, _ in ACTIVE])
def test_an_active_blob_is_a_sandboxed_attachment(
    live: Live, blobs: dict[str, tuple[str, str]], name: str
) -> None:
    sha256, kind = blobs[name]
    with live.client() as client:
        for response in (
            client.get(f"/blobs/{sha256}"),
            client.head(f"/blobs/{sha256}"),
            client.get(f"/blobs/{sha256}", headers={"Range": "bytes=0-3"}),
        ):
            assert response.status_code in (200, 206)
            assert_everywhere(response)
            assert response.headers["content-type"].split(";")[0] == kind  # not rewritten
            assert response.headers["content-disposition"] == f'attachment; filename="{sha256}"'
            assert response.headers["content-security-policy"] == "sandbox"  # not the page's


@pytest.mark.parametrize("name", [name for name, _, _ in PASSIVE])
def test_a_passive_blob_stays_inline(
    live: Live, blobs: dict[str, tuple[str, str]], name: str
) -> None:
    sha256, kind = blobs[name]
    with live.client() as client:
        response = client.get(f"/blobs/{sha256}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == kind
    assert_everywhere(response)
    assert "content-disposition" not in response.headers
    assert "content-security-policy" not in response.headers


@pytest.mark.parametrize(
    ("media_type", "passive"),
    [
        ("image/png", True),
        ("IMAGE/JPEG", True),
        ("audio/webm;codecs=opus", True),
        ("video/mp4", True),
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        ("image/svg+xml", False),
        ("Image/SVG+XML; charset=utf-8", False),
        ("text/html", False),
        ("application/xml", False),
        ("application/rss+xml", False),
        ("application/ecmascript", False),
        ("application/pdf", False),
        ("multipart/x-mixed-replace", False),
        ("image/png/x", False),
        ("", False),
    ],
)
def test_which_types_are_passive(media_type: str, passive: bool) -> None:
    assert is_passive(media_type) is passive
    assert ("Content-Disposition" not in stored_content_headers(media_type, "x")) is passive
