"""Request-scoped dependencies: the services and the caller's key."""

from collections.abc import Callable

from fastapi import Request

from tzzr.keys import Principal
from tzzr.services import Services


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def require(permission: str) -> Callable[[Request], Principal]:
    def dependency(request: Request) -> Principal:
        principal = services(request).keys.authenticate(request.headers.get("authorization"))
        principal.require(permission)
        return principal

    return dependency
