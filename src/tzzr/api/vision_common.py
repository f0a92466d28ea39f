"""What VISION BUILDER's routers share (tzzr.api.visions, tzzr.api.habits): the roles,
the body types, the service of the caller's instance, and the receipt of a sealed leaf."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tzzr.api.deps import require, services
from tzzr.errors import NotFound
from tzzr.keys import Principal
from tzzr.types import PositiveInt64
from tzzr.vision.receipt import FORMAT
from tzzr.vision.service import Visions

Reader = Annotated[Principal, Depends(require("read"))]
Checker = Annotated[Principal, Depends(require("ingest"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=20_000)]
Weight = Annotated[float, Field(gt=0, le=1_000_000)]
Evidence = Annotated[list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]], Field(max_length=50)]
Ids = Annotated[list[PositiveInt64], Field(max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def changes(body: BaseModel) -> dict[str, Any]:
    """A PATCH body's fields that were sent (snake_case)."""
    return body.model_dump(exclude_unset=True)


def store(request: Request) -> Visions:
    return services(request).visions


def h_of(principal: Principal) -> str:
    return principal.instance.h_instancia


def created(item: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(item, status_code=201, headers={"Location": location})


def receipt(
    request: Request,
    principal: Principal,
    leaf: int | None,
    what: str,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The leaf's inclusion proof against the newest block with the instance's verifier
    keys, or where it stands; `record`: what the leaf's hash seals, when it can be shown
    (a check-in's). `tzzr vision verify` checks it offline."""
    if leaf is None:
        raise NotFound(f"{what} has no ledger leaf (nothing of it was sealed)")
    ledger = services(request).ledger
    try:
        inclusion = ledger.inclusion(principal.instance, leaf)
    except NotFound as exc:
        return {"format": FORMAT, "leafIndex": leaf, "sealed": False, "message": exc.message}
    return {
        "format": FORMAT,
        "leafIndex": leaf,
        "sealed": True,
        "inclusion": inclusion.as_json(),
        "verifier_keys": [k.verifier_key for k in ledger.keys.public_keys(principal.instance)],
        **({"record": record} if record is not None else {}),
    }
