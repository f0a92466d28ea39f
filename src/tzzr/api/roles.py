"""Who may call what: each route's permission, read from its dependencies, written into
the OpenAPI document (`x-tzzr-role`) and into docs/security.md's role table (a test
keeps the page equal to `markdown(app)`, so the table cannot drift from the code)."""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from tzzr.api.deps import PERMISSION_ATTRIBUTE
from tzzr.keys import OPERATOR, PERMISSIONS

ROLE_KEY = "x-tzzr-role"
ROLES = ("operator", "admin", "read", "ingest")
# Which roles a permission admits: keys.PERMISSIONS, seen from the other side.
ADMITS: dict[str, tuple[str, ...]] = {
    "public": ROLES,
    "operator": (OPERATOR,),
    **{
        permission: tuple(role for role in ROLES if permission in PERMISSIONS.get(role, ()))
        for permission in sorted(set().union(*PERMISSIONS.values()))
    },
}


# Routes that take `read` as well when they read stored data (a blob input, an entry):
# an ingest key runs cells only on bytes it sends (tests/api/test_isolation.py).
STORED_DATA = frozenset(
    {
        ("POST", "/api/cells/{cell_id}/run"),
        ("POST", "/execute"),
        ("POST", "/grace/run"),
        ("POST", "/grace/runsync"),
    }
)


def _permission(dependant: Dependant) -> str | None:
    for sub in dependant.dependencies:
        found = getattr(sub.call, PERMISSION_ATTRIBUTE, None)
        if found is None:
            found = _permission(sub)
        if found is not None:
            return str(found)
    return None


def permission(route: APIRoute) -> str:
    """The route's permission: one of ADMITS (`public`: no key needed)."""
    declared = (route.openapi_extra or {}).get(ROLE_KEY)
    return str(declared or _permission(route.dependant) or "public")


def annotate(router: APIRouter) -> APIRouter:
    """Write each route's permission into its OpenAPI operation (before the router is
    included: the app copies what its routes say then)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            route.openapi_extra = {**(route.openapi_extra or {}), ROLE_KEY: permission(route)}
    return router


def operations(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) for every documented operation of the app."""
    found: list[tuple[str, str, APIRoute]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path:
            found.extend((method, context.path, route) for method in sorted(route.methods or ()))
    return found


def rows(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, permission) for every documented operation, in path order."""
    found = [(method, path, permission(route)) for method, path, route in operations(app)]
    return sorted(found, key=lambda row: (row[1], row[0]))


def markdown(app: FastAPI) -> str:
    """The role table of docs/security.md."""
    lines = [
        "| route | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for method, path, needed in rows(app):
        marks = " | ".join("✓" if role in ADMITS[needed] else "" for role in ROLES)
        dagger = " †" if (method, path) in STORED_DATA else ""
        lines.append(f"| `{method} {path}`{dagger} | {marks} |")
    return "\n".join(lines) + "\n"


def operation_roles(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(METHOD, path) → permission, from a served OpenAPI document."""
    return {
        (method.upper(), path): str(operation.get(ROLE_KEY, "public"))
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    }
