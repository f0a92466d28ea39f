"""Request-scoped dependencies: the services and the caller's key."""

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from tzzr.keys import Principal
from tzzr.services import Services


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
