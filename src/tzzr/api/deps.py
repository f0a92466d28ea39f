"""Request-scoped dependencies: the services and the caller's key."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from tzzr.api.openapi import schema_ref
from tzzr.errors import InvalidInput
from tzzr.ingest.forms import field_of, read_limited
from tzzr.keys import Principal
from tzzr.services import Services

M = TypeVar("M", bound=BaseModel)


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    async def dependency(request: Request) -> Principal:
        keys = services(request).keys
        header = request.headers.get("authorization")
        principal = keys.cached(header)
        if principal is None:
            principal = await run_in_threadpool(keys.authenticate, header)
        principal.require(permission)
        return principal

    return dependency


async def parse_body(request: Request, model: type[M]) -> M:
    """A JSON body read with the size limit before parsing (FastAPI would hold any size
    in memory first), validated; 422 naming the first bad field."""
    raw = await read_limited(request.stream(), services(request).settings.max_json_body_bytes)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InvalidInput(
            str(error["msg"]), field=field_of(tuple(error["loc"])) or "body"
        ) from exc


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body `parse_body` reads as `model`."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_ref(model)}},
        }
    }
