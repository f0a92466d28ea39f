"""VISION BUILDER over HTTP: /habits (with check-ins, Loop's import and export) and
/key-results (with check-ins); included in tzzr.api.visions' router."""

import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from python_multipart import parse_form
from python_multipart.exceptions import FormParserError, MultipartParseError
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body
from tzzr.api.vision_common import (
    Admin,
    Body,
    Checker,
    Evidence,
    Ids,
    Reader,
    Text,
    Title,
    Weight,
    changes,
    created,
    h_of,
    receipt,
    store,
)
from tzzr.errors import InvalidInput, TooLarge
from tzzr.types import PositiveInt64, UtcDatetime
from tzzr.vision import loop
from tzzr.vision.habit_store import checkin_record
from tzzr.vision.key_results import key_result_record

router = APIRouter()
MAX_IMPORT_BYTES = 16 * 1024 * 1024


# -- habits --------------------------------------------------------------------------
class HabitBody(Body):
    name: Title
    description: Text = ""
    kind: str = "boolean"
    times: int = Field(default=1, ge=1, le=366)
    interval_days: int = Field(default=1, ge=1, le=366, alias="intervalDays")
    target: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    tz: str = Field(default="UTC", max_length=64)
    archived: bool = False
    weight: Weight = 1.0
    milestone_ids: Ids = Field(default_factory=list, alias="milestoneIds")


class HabitPatch(Body):
    name: Title | None = None
    description: Text | None = None
    kind: str | None = None
    times: int | None = Field(default=None, ge=1, le=366)
    interval_days: int | None = Field(default=None, ge=1, le=366, alias="intervalDays")
    target: float | None = None
    unit: str | None = Field(default=None, max_length=32)
    tz: str | None = Field(default=None, max_length=64)
    archived: bool | None = None
    weight: Weight | None = None


class CheckinBody(Body):
    day: date | None = None
    at: UtcDatetime | None = None
    value: float | None = None
    note: str = Field(default="", max_length=5000)
    evidence: Evidence = Field(default_factory=list)


@router.post(
    "/habits",
    summary="Create a habit (yes/no, numeric, N times per interval)",
    status_code=201,
    openapi_extra=body_schema(HabitBody),
)
async def create_habit(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, HabitBody)
    fields = body.model_dump()
    milestone_ids = fields.pop("milestone_ids")
    visions = store(request)
    habit_id = await run_in_threadpool(
        lambda: visions.create_habit(
            h_of(principal), fields.pop("name"), milestone_ids=milestone_ids, **fields
        )
    )
    item = await run_in_threadpool(visions.get_habit, h_of(principal), habit_id)
    return created(item, f"/habits/{habit_id}")


@router.get("/habits", summary="Habits with streaks, strength and the last days (?days=28)")
def list_habits(
    request: Request,
    principal: Reader,
    archived: bool | None = False,
    days: Annotated[int, Query(ge=0, le=400)] = 28,
) -> dict[str, Any]:
    return {"habits": store(request).list_habits(h_of(principal), archived=archived, days=days)}


@router.post(
    "/habits/import",
    summary="Import a Loop Habit Tracker CSV export (its zip, or Habits.csv / Checkmarks.csv)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
)
async def import_habits(
    request: Request, principal: Admin, tz: Annotated[str, Query(max_length=64)] = "UTC"
) -> dict[str, Any]:
    """`tz`: the time zone of the habits it creates (Loop's days are local dates)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_IMPORT_BYTES:
            raise TooLarge(f"an import is limited to {MAX_IMPORT_BYTES} bytes")
    kind = request.headers.get("content-type", "")
    body = bytes(raw)
    if kind.startswith("multipart/form-data"):
        body, kind = _uploaded(body, kind)
    return await run_in_threadpool(
        loop.import_bytes, store(request), h_of(principal), body, kind, tz
    )


def _uploaded(raw: bytes, content_type: str) -> tuple[bytes, str]:
    """The first file of a multipart form (`curl -F file=@export.zip`) and its type."""
    found: list[Any] = []
    try:
        parse_form({"Content-Type": content_type.encode()}, io.BytesIO(raw), None, found.append)
    except (FormParserError, MultipartParseError, ValueError) as exc:
        raise InvalidInput(f"malformed multipart body: {exc}", field="file") from exc
    if not found:
        raise InvalidInput("the form holds no file: send it as the field `file`", field="file")
    upload = found[0]
    upload.file_object.seek(0)
    name = (upload.file_name or b"").decode(errors="replace")
    return upload.file_object.read(), "application/zip" if name.endswith(".zip") else "text/csv"


@router.get(
    "/habits/export.zip",
    summary="Every habit and check-in in Loop Habit Tracker's CSV export format",
    response_class=Response,
)
def export_habits(request: Request, principal: Reader) -> Response:
    body = loop.export_archive(store(request), h_of(principal))
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="Loop Habits CSV.zip"'},
    )


@router.get("/habits/{habit_id}", summary="A habit: streaks, strength, the last days")
def get_habit(
    request: Request,
    principal: Reader,
    habit_id: PositiveInt64,
    days: Annotated[int, Query(ge=0, le=400)] = 28,
) -> Any:
    return store(request).get_habit(h_of(principal), habit_id, days)


@router.patch("/habits/{habit_id}", summary="Change a habit", openapi_extra=body_schema(HabitPatch))
async def patch_habit(request: Request, principal: Admin, habit_id: PositiveInt64) -> Any:
    body = await parse_body(request, HabitPatch)
    return await run_in_threadpool(
        store(request).update_habit, h_of(principal), habit_id, changes(body)
    )


@router.delete("/habits/{habit_id}", summary="Delete a habit and its check-ins", status_code=204)
def delete_habit(request: Request, principal: Admin, habit_id: PositiveInt64) -> Response:
    store(request).delete_habit(h_of(principal), habit_id)
    return Response(status_code=204)


@router.post(
    "/habits/{habit_id}/checkins",
    summary="Check in a habit (day, or the moment `at` read in the habit's zone; sealed)",
    status_code=201,
    openapi_extra=body_schema(CheckinBody),
)
async def checkin_habit(request: Request, principal: Checker, habit_id: PositiveInt64) -> Any:
    body = await parse_body(request, CheckinBody)
    visions = store(request)
    item = await run_in_threadpool(
        lambda: visions.checkin(
            h_of(principal),
            habit_id,
            day=body.day,
            at=body.at,
            value=body.value,
            note=body.note,
            evidence=body.evidence,
        )
    )
    return created(item, f"/habits/{habit_id}/checkins/{item['id']}")


@router.get("/habits/{habit_id}/checkins", summary="A habit's check-ins (?since, ?until)")
def list_checkins(
    request: Request,
    principal: Reader,
    habit_id: PositiveInt64,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    return {"checkins": store(request).checkins(h_of(principal), habit_id, since, until)}


@router.get("/habits/{habit_id}/checkins/{checkin_id}", summary="A check-in")
def get_checkin(
    request: Request, principal: Reader, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    return store(request).get_checkin(h_of(principal), habit_id, checkin_id)


@router.get(
    "/habits/{habit_id}/checkins/{checkin_id}/receipt",
    summary="The ledger proof of a check-in",
)
def checkin_receipt(
    request: Request, principal: Reader, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    item = store(request).get_checkin(h_of(principal), habit_id, checkin_id)
    record = checkin_record(
        habit_id, date.fromisoformat(item["day"]), item["value"], item["evidence"]
    )
    return receipt(request, principal, item["leafIndex"], f"check-in {checkin_id}", record[1])


@router.delete(
    "/habits/{habit_id}/checkins/{checkin_id}",
    summary="Delete a check-in (its leaf stays in the log)",
    status_code=204,
)
def delete_checkin(
    request: Request, principal: Admin, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Response:
    store(request).delete_checkin(h_of(principal), habit_id, checkin_id)
    return Response(status_code=204)


# -- key results ---------------------------------------------------------------------
class KeyResultBody(Body):
    title: Title
    unit: str | None = Field(default=None, max_length=32)
    start_value: float = Field(default=0.0, alias="startValue")
    target_value: float = Field(alias="targetValue")
    weight: Weight = 1.0
    milestone_ids: Ids = Field(default_factory=list, alias="milestoneIds")


class KeyResultPatch(Body):
    title: Title | None = None
    unit: str | None = Field(default=None, max_length=32)
    start_value: float | None = Field(default=None, alias="startValue")
    target_value: float | None = Field(default=None, alias="targetValue")
    weight: Weight | None = None


class KeyResultCheckinBody(Body):
    value: float
    day: date | None = None
    note: str = Field(default="", max_length=5000)
    evidence: Evidence = Field(default_factory=list)


@router.post(
    "/key-results",
    summary="Create a key result (start, target; milestoneIds)",
    status_code=201,
    openapi_extra=body_schema(KeyResultBody),
)
async def create_key_result(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, KeyResultBody)
    visions = store(request)
    kr_id = await run_in_threadpool(
        lambda: visions.create_key_result(
            h_of(principal),
            body.title,
            start_value=body.start_value,
            target_value=body.target_value,
            unit=body.unit,
            weight=body.weight,
            milestone_ids=body.milestone_ids,
        )
    )
    item = await run_in_threadpool(visions.get_key_result, h_of(principal), kr_id)
    return created(item, f"/key-results/{kr_id}")


@router.get("/key-results", summary="Key results with their current value and progress")
def list_key_results(request: Request, principal: Reader) -> dict[str, Any]:
    return {"keyResults": store(request).list_key_results(h_of(principal))}


@router.get("/key-results/{key_result_id}", summary="A key result")
def get_key_result(request: Request, principal: Reader, key_result_id: PositiveInt64) -> Any:
    return store(request).get_key_result(h_of(principal), key_result_id)


@router.patch(
    "/key-results/{key_result_id}",
    summary="Change a key result",
    openapi_extra=body_schema(KeyResultPatch),
)
async def patch_key_result(request: Request, principal: Admin, key_result_id: PositiveInt64) -> Any:
    body = await parse_body(request, KeyResultPatch)
    return await run_in_threadpool(
        store(request).update_key_result, h_of(principal), key_result_id, changes(body)
    )


@router.delete("/key-results/{key_result_id}", summary="Delete a key result", status_code=204)
def delete_key_result(request: Request, principal: Admin, key_result_id: PositiveInt64) -> Response:
    store(request).delete_key_result(h_of(principal), key_result_id)
    return Response(status_code=204)


@router.post(
    "/key-results/{key_result_id}/checkins",
    summary="A dated value of a key result (sealed)",
    status_code=201,
    openapi_extra=body_schema(KeyResultCheckinBody),
)
async def checkin_key_result(
    request: Request, principal: Checker, key_result_id: PositiveInt64
) -> Any:
    body = await parse_body(request, KeyResultCheckinBody)
    visions = store(request)
    item = await run_in_threadpool(
        lambda: visions.key_result_checkin(
            h_of(principal),
            key_result_id,
            body.value,
            day=body.day,
            note=body.note,
            evidence=body.evidence,
        )
    )
    return created(item, f"/key-results/{key_result_id}/checkins/{item['id']}")


@router.get("/key-results/{key_result_id}/checkins", summary="A key result's check-ins")
def list_key_result_checkins(
    request: Request, principal: Reader, key_result_id: PositiveInt64
) -> dict[str, Any]:
    return {"checkins": store(request).key_result_checkins(h_of(principal), key_result_id)}


@router.get(
    "/key-results/{key_result_id}/checkins/{checkin_id}/receipt",
    summary="The ledger proof of a key result's check-in",
)
def key_result_checkin_receipt(
    request: Request, principal: Reader, key_result_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    item = store(request).get_key_result_checkin(h_of(principal), key_result_id, checkin_id)
    record = key_result_record(key_result_id, item["day"], item["value"], item["evidence"])
    return receipt(request, principal, item["leafIndex"], f"check-in {checkin_id}", record)


@router.delete(
    "/key-results/{key_result_id}/checkins/{checkin_id}",
    summary="Delete a key result's check-in (its leaf stays in the log)",
    status_code=204,
)
def delete_key_result_checkin(
    request: Request, principal: Admin, key_result_id: PositiveInt64, checkin_id: PositiveInt64
) -> Response:
    store(request).delete_key_result_checkin(h_of(principal), key_result_id, checkin_id)
    return Response(status_code=204)
