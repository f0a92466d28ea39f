"""Request-scoped dependencies: the services and the caller's key."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from tzzr import jsonlimits, ratelimit
from tzzr.api.openapi import schema_ref
from tzzr.canonical import UNSTORABLE, UNSTORABLE_TEXT, check_ijson
from tzzr.errors import InvalidInput
from tzzr.ingest.forms import read_limited
from tzzr.keys import Operator, Principal
from tzzr.services import Services
from tzzr.validation import invalid_input

M = TypeVar("M", bound=BaseModel)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


PERMISSION_ATTRIBUTE = "tzzr_permission"  # what api/roles.py reads to write the role table


async def _authenticate(request: Request) -> Principal | Operator:
    return await ratelimit.authenticate(request)  # the key cache, then the database


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A key of an instance whose role allows `permission` (ingest, read, admin)."""

    async def dependency(request: Request) -> Principal:
        principal = await _authenticate(request)
        principal.require(permission)  # an operator key is refused here: it has no instance
        assert isinstance(principal, Principal)
        return principal

    setattr(dependency, PERMISSION_ATTRIBUTE, permission)
    return dependency


def require_stored_read(
    principal: Principal, encoding: str | None, h_entrada: object = None
) -> None:
    """Running a cell or flow over stored data (a blob input, an entry) needs `read`: an
    ingest key runs cells only on bytes it sends (roles.STORED_DATA lists these routes)."""
    if encoding == "blob" or h_entrada is not None:
        principal.require("read")


def require_operator() -> Callable[[Request], Awaitable[Operator]]:
    """An operator key: the server's own tasks (made only with `tzzr keys create --operator`)."""

    async def dependency(request: Request) -> Operator:
        principal = await _authenticate(request)
        principal.require("operator")
        assert isinstance(principal, Operator)
        return principal

    setattr(dependency, PERMISSION_ATTRIBUTE, "operator")
    return dependency


async def parse_body(request: Request, model: type[M], limit: int | None = None) -> M:
    """A JSON body read with the size limit before parsing (FastAPI would hold any size
    in memory first), validated; 422 naming the first bad field. `limit`: bytes, by
    default TZZR_MAX_JSON_BODY_BYTES."""
    if limit is None:
        limit = services(request).settings.max_json_body_bytes
    raw = await read_limited(request.stream(), limit)
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        jsonlimits.raise_if_too_deep(exc, raw)
        raise invalid_input(exc) from exc
    jsonlimits.check_depth(parsed)  # 422 here, not a RecursionError further on
    # NaN, Infinity and huge integers parse, but JSON columns and RFC 8785 refuse them later.
    check_ijson(parsed.model_dump(by_alias=True))
    return parsed


def storable_parameters(request: Request) -> None:
    """Every route's path and query parameters are text a database can store (a
    dependency of the whole app): PostgreSQL refuses NUL in any text column, which was a
    500 on whichever route passed one to a query."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if isinstance(value, str) and UNSTORABLE.search(value):
            raise InvalidInput(f"{name}: {UNSTORABLE_TEXT}", field=name)


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body `parse_body` reads as `model`."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(model)}},
        }
    }
