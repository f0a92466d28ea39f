"""The web app: server-rendered pages (the structure, forms and labels) with light
JavaScript for the data, served by `tzzr serve`, every asset local (no CDN). The API key
stays in the browser and is sent as a bearer token, like any client."""

from html import escape
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC = files("tzzr.web") / "static"
router = APIRouter()
NAV = [
    ("capture", "/app/capture", "Capture"),
    ("inbox", "/app/inbox", "Inbox"),
    ("ledger", "/app/ledger", "Ledger"),
    ("cells", "/app/cells", "Cells"),
    ("flows", "/app/flows", "Flows"),
    ("sentinel", "/app/sentinel", "SENTINEL"),
    ("viewer", "/app/viewer", "Viewer"),
]


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(STATIC))


def _page(name: str, title: str, body: str, scripts: tuple[str, ...] = ("app.js",)) -> HTMLResponse:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{href}"{current if key == name else ""}>{label}</a>' for key, href, label in NAV
    )
    tags = "".join(f'<script src="/app/static/{script}"></script>' for script in scripts)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TZZR · {escape(title)}</title><link rel="stylesheet" href="/app/static/app.css">
</head><body data-page="{name}">
<header><strong>TZZR</strong><nav aria-label="Main">{links}</nav>
<a href="/app?signout">Sign out</a></header>
<main><h1 id="title">{escape(title)}</h1><p id="message" role="status"></p>{body}</main>
{tags}</body></html>"""
    )


@router.get("/app", summary="The web app: sign in with an API key (HTML)")
def signin() -> HTMLResponse:
    return _page(
        "signin",
        "Sign in",
        """<form id="signin" class="card">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required
 placeholder="tzzr_…">
<button type="submit">Sign in</button>
<p class="muted">The key stays in this browser. Lost it? <code>tzzr keys create
--instance deck --role admin</code>.</p></form>""",
    )


def _table(body_id: str, *columns: str) -> str:
    """A table the app fills: its column headers, and an empty body with `body_id`."""
    heads = "".join(f'<th scope="col">{column}</th>' for column in columns)
    return f'<table><thead><tr>{heads}</tr></thead><tbody id="{body_id}"></tbody></table>'


@router.get("/app/capture", summary="Capture: a photo, audio or files, with notes (HTML)")
def capture() -> HTMLResponse:
    return _page(
        "capture",
        "Capture",
        """<form id="capture" class="card">
<label for="photo">Take or choose a photo</label>
<input id="photo" name="photo" type="file" accept="image/*" capture="environment">
<label for="files">Or pick files</label>
<input id="files" name="files" type="file" multiple>
<div><button type="button" id="record" class="secondary">Record audio</button>
<span id="recorded" aria-live="polite"></span></div>
<label for="note">Notes</label>
<textarea id="note" name="note" rows="3"></textarea>
<progress id="progress" max="1" value="0" hidden aria-label="Upload progress"></progress>
<button type="submit">Send</button>
<p id="result" role="status" aria-live="polite"></p></form>
<p id="outbox" aria-live="polite"></p>
<ul id="queued" class="outbox" aria-label="Captures not yet sent"></ul>""",
    )


@router.get("/app/inbox", summary="Inbox: entries and their processing state (HTML)")
def inbox() -> HTMLResponse:
    return _page(
        "inbox",
        "Inbox",
        '<p id="count"></p>' + _table("entries", "Entry", "State", "Files", "Captured"),
    )


@router.get("/app/entry", summary="One entry: its container, flow and results (HTML)")
def entry() -> HTMLResponse:
    return _page(
        "entry",
        "Entry",
        """<p>State: <span id="state"></span> <span id="enrich"></span> ·
<span id="verify"></span></p><h2>Container</h2><pre id="details"></pre>
<h2>Processing</h2><div id="results"></div>""",
    )


@router.get("/app/enrich", summary="MASON: enrich an item before its deadline (HTML)")
def enrich() -> HTMLResponse:
    return _page(
        "enrich",
        "Enrich",
        """<p id="deadline" role="timer" aria-live="off"></p><p id="reason"></p>
<form id="enrich-form" class="card"><div id="fields"></div>
<button type="submit">Save</button><p id="saved" role="status" aria-live="polite"></p></form>
<h2>What the cells found</h2><pre id="results"></pre>""",
    )


@router.get("/app/ledger", summary="Ledger explorer; proofs verified in the browser (HTML)")
def ledger() -> HTMLResponse:
    return _page(
        "ledger",
        "Ledger",
        """<form id="verify-form" class="card">
<label for="h">Verify an entry (h_entrada)</label>
<input id="h" name="h" type="text" required pattern="[0-9a-f]{64}">
<button type="submit">Verify in this browser</button>
<p id="verdict" role="status" aria-live="polite"></p>
<p class="muted">The receipt's container hash, leaf, inclusion proof and checkpoint
signature are checked here with WebCrypto, not by the server.</p></form>
<h2>Blocks</h2>"""
        + _table("blocks", "Block", "Leaves", "Tree size", "Root", "Sealed"),
        scripts=("verify.js", "app.js"),
    )


@router.get("/app/cells", summary="Cells and runs (HTML)")
def cells() -> HTMLResponse:
    return _page(
        "cells",
        "Cells and runs",
        _table("cells", "Cell", "Version", "Module", "What it does")
        + "<h2>Recent runs</h2>"
        + _table("runs", "Run", "Cell", "Status", "Latency"),
    )


@router.get("/app/flows", summary="Flows and executions (HTML)")
def flows() -> HTMLResponse:
    return _page(
        "flows",
        "Flows and executions",
        _table("flows", "Flow", "Version", "Steps", "Decision")
        + "<h2>Executions</h2>"
        + _table("executions", "Execution", "Flow", "Status", "Outcome"),
    )


@router.get("/app/sentinel", summary="SENTINEL dashboard: events, alerts, charts (HTML)")
def sentinel() -> HTMLResponse:
    return _page(
        "sentinel",
        "SENTINEL",
        "<h2>Alerts</h2>"
        + _table("alerts", "Rule", "Severity", "State", "Message")
        + """
<h2>Throughput</h2><canvas id="chart" width="600" height="120" role="img"
 aria-label="Events per minute over the last hour"></canvas>
<h2>Run latency</h2><canvas id="latency-chart" width="600" height="140" role="img"
 aria-label="How many runs finished within each latency band"></canvas><p id="latency"></p>
<h2>Events</h2>"""
        + _table("events", "When", "Kind", "Severity", "Subject"),
    )


@router.get("/app/viewer", summary="Live viewer of the render cells' geometry (HTML)")
def viewer() -> HTMLResponse:
    return HTMLResponse((STATIC / "viewer.html").read_text(encoding="utf-8"))
