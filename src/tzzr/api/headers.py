"""Security headers, set in one place: `nosniff` and `no-referrer` on every response, and a
strict CSP with frame protection on every HTML page. Blobs and rendered samples say
themselves how they may be shown (`stored_content_headers`), since the uploader, not the
server, chose their media type."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The app needs nothing beyond its own origin: every script and stylesheet is a file under
# /app/static, data comes from fetch() to this server, the charts are canvases. No
# 'unsafe-inline', no 'unsafe-eval': an injected string can never run. Photos and voice
# notes are fetched with the key and shown from object URLs (blob:, which only this
# origin's scripts can make), since an <img> or <audio> cannot send the key.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
PAGE = [(b"content-security-policy", PAGE_CSP.encode()), (b"x-frame-options", b"DENY")]

# Media types a browser shows without running anything (with nosniff it never guesses
# another). Everything else, known-active (HTML, SVG, XML, JavaScript, PDF) or unknown, is
# a download in a sandbox: allowlisting the passive ones fails safe for types nobody listed.
PASSIVE_PREFIXES = ("image/", "audio/", "video/")
PASSIVE = {"application/json", "text/plain", "text/csv"}


def essence(media_type: str) -> str:
    """`Text/HTML; charset=utf-8` -> `text/html` (RFC 9110 §8.3.1: case-insensitive)."""
    return media_type.split(";", 1)[0].strip().lower()


def is_passive(media_type: str) -> bool:
    kind = essence(media_type)
    if kind.endswith("+xml") or kind.endswith("/xml"):  # image/svg+xml runs scripts
        return False
    return kind in PASSIVE or (kind.startswith(PASSIVE_PREFIXES) and kind.count("/") == 1)


def stored_content_headers(media_type: str, name: str) -> dict[str, str]:
    """Headers for bytes someone else chose: an active type is sent as an attachment and,
    if opened anyway, runs in a sandbox with no origin (no key in localStorage to read)."""
    if is_passive(media_type):
        return {}
    return {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Security-Policy": "sandbox",
    }


class SecurityHeaders:
    """Pure ASGI (as the metrics middleware: no buffering of streamed bodies); a header a
    route set itself (a blob's own CSP) is kept, never replaced."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = ALWAYS + (PAGE if content_type.lower().startswith(b"text/html") else [])
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
