"""`GET /blobs/{sha256}`: streamed, with single-range HTTP range requests (RFC 9110 §14)."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from tzzr.api.deps import require, services
from tzzr.api.headers import stored_content_headers
from tzzr.errors import NotFound, RangeNotSatisfiable
from tzzr.keys import Principal

router = APIRouter()
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive, or None to send the whole blob. Multiple ranges and
    unknown units are ignored (allowed by RFC 9110); unsatisfiable ones are 416."""
    if not header:
        return None
    match = RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(f"the blob has {size} bytes")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"range {header} is outside the blob's {size} bytes")
    return start, end


# Two routes, not one with two methods: each method needs its own operation id.
@router.head("/blobs/{sha256}", summary="A blob's size and type")
@router.get("/blobs/{sha256}", summary="A blob's bytes")
def get_blob(
    request: Request, principal: Annotated[Principal, Depends(require("read"))], sha256: str
) -> Response:
    found = services(request)
    ref = found.entries.blob(principal.instance, sha256)
    store = found.ingest.store_for(principal.instance)
    size = store.size(sha256)
    if size is None:
        raise NotFound(f"blob {sha256} is referenced but missing from the store; run `tzzr audit`")
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{sha256}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        # the uploader chose the media type: HTML or SVG must not run on this origin
        **stored_content_headers(ref.media_type, sha256),
    }
    try:
        span = parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as exc:
        return Response(
            content=exc.body()["error"]["message"],
            status_code=416,
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    start, end = span if span is not None else (0, size - 1)
    headers["Content-Length"] = str(max(0, end - start + 1))
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=ref.media_type)
    return StreamingResponse(
        store.read(sha256, start, end),
        status_code=status,
        headers=headers,
        media_type=ref.media_type,
    )
