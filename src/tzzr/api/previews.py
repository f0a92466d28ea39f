"""`GET /entries/{h_entrada}/previews`, `GET /previews/{sha256}/{name}`: the thumbnails
and waveforms made at ingest (tzzr.runs.previews). A preview is content-addressed (its
ETag is its blob's sha256), so a browser keeps it for a year and asks again only with
If-None-Match; `private`, as a blob is: the answer is for the key that asked, and a
shared cache must not hand it to a request without one."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tzzr.api.deps import require, services
from tzzr.keys import Principal

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
CACHE = "private, max-age=31536000, immutable"


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match (RFC 9110 §13.1.2): `*`, or a list with this ETag, weakly compared."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


@router.get("/entries/{h_entrada}/previews", summary="An entry's previews, file by file")
def entry_previews(request: Request, principal: Reader, h_entrada: str) -> dict[str, Any]:
    """Each file of the entry: `status` (pending, done, failed, none), the URLs of
    `thumb`, `large` and `waveform` once made, and the original's `width`, `height`
    (a PDF page's in points, with `pages`) or `duration`."""
    return services(request).previews.of_entry(principal.instance, h_entrada)


@router.get(
    "/previews/{sha256}/{name}",
    summary="A file's preview (thumb.webp, large.webp, waveform.webp)",
    responses={200: {"content": {"image/webp": {}}}, 304: {"description": "Not modified"}},
)
def preview(request: Request, principal: Reader, sha256: str, name: str) -> Response:
    found = services(request).previews
    image = found.image(principal.instance, sha256, name)
    etag = f'"{image.sha256}"'
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    data = found.read(principal.instance, image.sha256)
    return Response(content=data, media_type=image.media_type, headers=headers)
