"""VISION BUILDER over HTTP: /visions, /milestones, /actions, /habits, /key-results.

Roles: `read` for every GET; `ingest` for a check-in (a habit's or a key result's): the
key a phone holds to send captures may also say "I did it today"; `admin` for everything
else that writes (creating, changing, linking, deleting, importing)."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tzzr.api.deps import body_schema, parse_body, require, services
from tzzr.errors import NotFound
from tzzr.ingest.forms import read_limited
from tzzr.keys import Principal
from tzzr.types import PositiveInt64, UtcDatetime
from tzzr.vision import calendar, loop

router = APIRouter()
Reader = Annotated[Principal, Depends(require("read"))]
Checker = Annotated[Principal, Depends(require("ingest"))]
Admin = Annotated[Principal, Depends(require("admin"))]
MAX_IMPORT_BYTES = 16 * 1024 * 1024
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=20_000)]
Weight = Annotated[float, Field(gt=0, le=1_000_000)]
Evidence = Annotated[list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]], Field(max_length=50)]
Ids = Annotated[list[PositiveInt64], Field(max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _changes(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


def _vision(request: Request) -> Any:
    return services(request).visions


def _h(principal: Principal) -> str:
    return principal.instance.h_instancia


def _created(item: dict[str, Any], location: str) -> JSONResponse:
    return JSONResponse(item, status_code=201, headers={"Location": location})


def _receipt(request: Request, principal: Principal, leaf: int | None, what: str) -> dict[str, Any]:
    """The leaf's inclusion proof against the newest block, or where it stands."""
    if leaf is None:
        raise NotFound(f"{what} has no ledger leaf (nothing of it was sealed)")
    ledger = services(request).ledger
    try:
        inclusion = ledger.inclusion(principal.instance, leaf)
    except NotFound as exc:
        return {"leafIndex": leaf, "sealed": False, "message": exc.message}
    return {
        "leafIndex": leaf,
        "sealed": True,
        "inclusion": inclusion.as_json(),
        "verifier_keys": [k.verifier_key for k in ledger.keys.public_keys(principal.instance)],
    }


# -- visions -------------------------------------------------------------------------
class VisionBody(Body):
    title: Title
    description: Text = ""
    status: str = "active"


class VisionPatch(Body):
    title: Title | None = None
    description: Text | None = None
    status: str | None = None


@router.post(
    "/visions",
    summary="Create a vision (sealed in the ledger)",
    status_code=201,
    openapi_extra=body_schema(VisionBody),
)
async def create_vision(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, VisionBody)
    visions = _vision(request)
    vision_id = await run_in_threadpool(
        visions.create_vision, _h(principal), body.title, body.description, body.status
    )
    tree = await run_in_threadpool(visions.tree, _h(principal), vision_id)
    return _created(tree, f"/visions/{vision_id}")


@router.get("/visions", summary="Visions with their progress")
def list_visions(request: Request, principal: Reader, status: str | None = None) -> dict[str, Any]:
    return {"visions": _vision(request).list_visions(_h(principal), status)}


@router.get("/visions/{vision_id}", summary="A vision's tree, with everyone's progress")
def get_vision(request: Request, principal: Reader, vision_id: PositiveInt64) -> dict[str, Any]:
    tree: dict[str, Any] = _vision(request).tree(_h(principal), vision_id)
    return tree


@router.patch(
    "/visions/{vision_id}", summary="Change a vision", openapi_extra=body_schema(VisionPatch)
)
async def patch_vision(request: Request, principal: Admin, vision_id: PositiveInt64) -> Any:
    body = await parse_body(request, VisionPatch)
    return await run_in_threadpool(
        _vision(request).update_vision, _h(principal), vision_id, _changes(body)
    )


@router.delete(
    "/visions/{vision_id}",
    summary="Delete a vision (its milestones stay)",
    status_code=204,
)
def delete_vision(request: Request, principal: Admin, vision_id: PositiveInt64) -> Response:
    _vision(request).delete_vision(_h(principal), vision_id)
    return Response(status_code=204)


@router.get("/visions/{vision_id}/receipt", summary="The ledger proof of a vision's creation")
def vision_receipt(request: Request, principal: Reader, vision_id: PositiveInt64) -> Any:
    leaf = _vision(request).leaf_of(_h(principal), "vision", vision_id)
    return _receipt(request, principal, leaf, f"vision {vision_id}")


@router.get(
    "/visions/{vision_id}/calendar.ics",
    summary="The vision's actions with dates, as iCalendar",
    response_class=Response,
)
def vision_calendar(request: Request, principal: Reader, vision_id: PositiveInt64) -> Response:
    visions = _vision(request)
    tree = visions.tree(_h(principal), vision_id)
    actions = visions.list_actions(_h(principal), vision_id=vision_id)
    body = calendar.actions_ics(actions, principal.instance.name, tree["title"])
    return Response(body, media_type=calendar.MEDIA_TYPE)


@router.put(
    "/visions/{vision_id}/milestones/{milestone_id}",
    summary="Attach a milestone to a vision",
    status_code=204,
)
def link_milestone(
    request: Request, principal: Admin, vision_id: PositiveInt64, milestone_id: PositiveInt64
) -> Response:
    _vision(request).link(_h(principal), "vision", vision_id, "milestone", milestone_id)
    return Response(status_code=204)


@router.delete(
    "/visions/{vision_id}/milestones/{milestone_id}",
    summary="Detach a milestone from a vision",
    status_code=204,
)
def unlink_milestone(
    request: Request, principal: Admin, vision_id: PositiveInt64, milestone_id: PositiveInt64
) -> Response:
    _vision(request).unlink(_h(principal), "vision", vision_id, "milestone", milestone_id)
    return Response(status_code=204)


# -- milestones ----------------------------------------------------------------------
class MilestoneBody(Body):
    title: Title
    description: Text = ""
    target_date: date | None = Field(default=None, alias="targetDate")
    weight: Weight = 1.0
    vision_ids: Ids = Field(default_factory=list, alias="visionIds")


class MilestonePatch(Body):
    title: Title | None = None
    description: Text | None = None
    target_date: date | None = Field(default=None, alias="targetDate")
    weight: Weight | None = None
    achieved: bool | None = None


@router.post(
    "/milestones",
    summary="Create a milestone (visionIds: the visions it serves)",
    status_code=201,
    openapi_extra=body_schema(MilestoneBody),
)
async def create_milestone(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, MilestoneBody)
    visions = _vision(request)
    milestone_id = await run_in_threadpool(
        lambda: visions.create_milestone(
            _h(principal),
            body.title,
            target_date=body.target_date,
            weight=body.weight,
            description=body.description,
            vision_ids=body.vision_ids,
        )
    )
    item = await run_in_threadpool(visions.get_milestone, _h(principal), milestone_id)
    return _created(item, f"/milestones/{milestone_id}")


@router.get("/milestones", summary="Milestones with their progress")
def list_milestones(request: Request, principal: Reader) -> dict[str, Any]:
    return {"milestones": _vision(request).list_milestones(_h(principal))}


@router.get("/milestones/{milestone_id}", summary="A milestone, its children and progress")
def get_milestone(request: Request, principal: Reader, milestone_id: PositiveInt64) -> Any:
    return _vision(request).get_milestone(_h(principal), milestone_id)


@router.patch(
    "/milestones/{milestone_id}",
    summary="Change a milestone (achieved: true seals it)",
    openapi_extra=body_schema(MilestonePatch),
)
async def patch_milestone(request: Request, principal: Admin, milestone_id: PositiveInt64) -> Any:
    body = await parse_body(request, MilestonePatch)
    return await run_in_threadpool(
        _vision(request).update_milestone, _h(principal), milestone_id, _changes(body)
    )


@router.delete("/milestones/{milestone_id}", summary="Delete a milestone", status_code=204)
def delete_milestone(request: Request, principal: Admin, milestone_id: PositiveInt64) -> Response:
    _vision(request).delete_milestone(_h(principal), milestone_id)
    return Response(status_code=204)


@router.get(
    "/milestones/{milestone_id}/receipt", summary="The ledger proof of a milestone achieved"
)
def milestone_receipt(request: Request, principal: Reader, milestone_id: PositiveInt64) -> Any:
    leaf = _vision(request).leaf_of(_h(principal), "milestone", milestone_id)
    return _receipt(request, principal, leaf, f"milestone {milestone_id}")


@router.put(
    "/milestones/{milestone_id}/actions/{action_id}",
    summary="Count an action toward a milestone",
    status_code=204,
)
def attach_action(
    request: Request, principal: Admin, milestone_id: PositiveInt64, action_id: PositiveInt64
) -> Response:
    _vision(request).link(_h(principal), "milestone", milestone_id, "action", action_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/actions/{action_id}",
    summary="Detach an action from a milestone",
    status_code=204,
)
def detach_action(
    request: Request, principal: Admin, milestone_id: PositiveInt64, action_id: PositiveInt64
) -> Response:
    _vision(request).unlink(_h(principal), "milestone", milestone_id, "action", action_id)
    return Response(status_code=204)


@router.put(
    "/milestones/{milestone_id}/habits/{habit_id}",
    summary="Count a habit toward a milestone",
    status_code=204,
)
def attach_habit(
    request: Request, principal: Admin, milestone_id: PositiveInt64, habit_id: PositiveInt64
) -> Response:
    _vision(request).link(_h(principal), "milestone", milestone_id, "habit", habit_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/habits/{habit_id}",
    summary="Detach a habit from a milestone",
    status_code=204,
)
def detach_habit(
    request: Request, principal: Admin, milestone_id: PositiveInt64, habit_id: PositiveInt64
) -> Response:
    _vision(request).unlink(_h(principal), "milestone", milestone_id, "habit", habit_id)
    return Response(status_code=204)


@router.put(
    "/milestones/{milestone_id}/key-results/{key_result_id}",
    summary="Count a key result toward a milestone",
    status_code=204,
)
def attach_key_result(
    request: Request, principal: Admin, milestone_id: PositiveInt64, key_result_id: PositiveInt64
) -> Response:
    _vision(request).link(_h(principal), "milestone", milestone_id, "key_result", key_result_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/key-results/{key_result_id}",
    summary="Detach a key result from a milestone",
    status_code=204,
)
def detach_key_result(
    request: Request, principal: Admin, milestone_id: PositiveInt64, key_result_id: PositiveInt64
) -> Response:
    _vision(request).unlink(_h(principal), "milestone", milestone_id, "key_result", key_result_id)
    return Response(status_code=204)


# -- actions -------------------------------------------------------------------------
class ActionBody(Body):
    title: Title
    notes: Text = ""
    due: date | None = None
    weight: Weight = 1.0
    evidence: Evidence = Field(default_factory=list)
    milestone_ids: Ids = Field(default_factory=list, alias="milestoneIds")


class ActionPatch(Body):
    title: Title | None = None
    notes: Text | None = None
    due: date | None = None
    weight: Weight | None = None
    evidence: Evidence | None = None
    done: bool | None = None


@router.post(
    "/actions",
    summary="Create an action (milestoneIds: the milestones it counts toward)",
    status_code=201,
    openapi_extra=body_schema(ActionBody),
)
async def create_action(request: Request, principal: Admin) -> JSONResponse:
    body = await parse_body(request, ActionBody)
    visions = _vision(request)
    action_id = await run_in_threadpool(
        lambda: visions.create_action(
            _h(principal),
            body.title,
            due=body.due,
            weight=body.weight,
            notes=body.notes,
            evidence=body.evidence,
            milestone_ids=body.milestone_ids,
        )
    )
    item = await run_in_threadpool(visions.get_action, _h(principal), action_id)
    return _created(item, f"/actions/{action_id}")


@router.get("/actions", summary="Actions (?milestone_id, ?vision_id, ?done)")
def list_actions(
    request: Request,
    principal: Reader,
    milestone_id: PositiveInt64 | None = None,
    vision_id: PositiveInt64 | None = None,
    done: bool | None = None,
) -> dict[str, Any]:
    found = _vision(request).list_actions(
        _h(principal), milestone_id=milestone_id, vision_id=vision_id, done=done
    )
    return {"actions": found}


@router.get(
    "/actions.ics",
    summary="Every action with a due date, as iCalendar",
    response_class=Response,
)
def actions_calendar(request: Request, principal: Reader) -> Response:
    actions = _vision(request).list_actions(_h(principal))
    body = calendar.actions_ics(actions, principal.instance.name, None)
    return Response(body, media_type=calendar.MEDIA_TYPE)


@router.get("/actions/{action_id}", summary="An action")
def get_action(request: Request, principal: Reader, action_id: PositiveInt64) -> Any:
    return _vision(request).get_action(_h(principal), action_id)


@router.patch(
    "/actions/{action_id}",
    summary="Change an action (done: true seals it)",
    openapi_extra=body_schema(ActionPatch),
)
async def patch_action(request: Request, principal: Admin, action_id: PositiveInt64) -> Any:
    body = await parse_body(request, ActionPatch)
    return await run_in_threadpool(
        _vision(request).update_action, _h(principal), action_id, _changes(body)
    )


@router.delete("/actions/{action_id}", summary="Delete an action", status_code=204)
def delete_action(request: Request, principal: Admin, action_id: PositiveInt64) -> Response:
    _vision(request).delete_action(_h(principal), action_id)
    return Response(status_code=204)


@router.get("/actions/{action_id}/receipt", summary="The ledger proof of an action done")
def action_receipt(request: Request, principal: Reader, action_id: PositiveInt64) -> Any:
    leaf = _vision(request).leaf_of(_h(principal), "action", action_id)
    return _receipt(request, principal, leaf, f"action {action_id}")


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
    visions = _vision(request)
    habit_id = await run_in_threadpool(
        lambda: visions.create_habit(
            _h(principal), fields.pop("name"), milestone_ids=milestone_ids, **fields
        )
    )
    item = await run_in_threadpool(visions.get_habit, _h(principal), habit_id)
    return _created(item, f"/habits/{habit_id}")


@router.get("/habits", summary="Habits with streaks, strength and the last days (?days=28)")
def list_habits(
    request: Request,
    principal: Reader,
    archived: bool | None = False,
    days: Annotated[int, Query(ge=0, le=400)] = 28,
) -> dict[str, Any]:
    return {"habits": _vision(request).list_habits(_h(principal), archived=archived, days=days)}


@router.post(
    "/habits/import",
    summary="Import a Loop Habit Tracker CSV export (its zip, or Habits.csv / Checkmarks.csv)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_habits(request: Request, principal: Admin) -> dict[str, Any]:
    raw = await read_limited(request.stream(), MAX_IMPORT_BYTES)
    kind = request.headers.get("content-type", "")
    return await run_in_threadpool(loop.import_bytes, _vision(request), _h(principal), raw, kind)


@router.get(
    "/habits/export.zip",
    summary="Every habit and check-in in Loop Habit Tracker's CSV export format",
    response_class=Response,
)
def export_habits(request: Request, principal: Reader) -> Response:
    body = loop.export_archive(_vision(request), _h(principal))
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
    return _vision(request).get_habit(_h(principal), habit_id, days)


@router.patch("/habits/{habit_id}", summary="Change a habit", openapi_extra=body_schema(HabitPatch))
async def patch_habit(request: Request, principal: Admin, habit_id: PositiveInt64) -> Any:
    body = await parse_body(request, HabitPatch)
    return await run_in_threadpool(
        _vision(request).update_habit, _h(principal), habit_id, _changes(body)
    )


@router.delete("/habits/{habit_id}", summary="Delete a habit and its check-ins", status_code=204)
def delete_habit(request: Request, principal: Admin, habit_id: PositiveInt64) -> Response:
    _vision(request).delete_habit(_h(principal), habit_id)
    return Response(status_code=204)


@router.post(
    "/habits/{habit_id}/checkins",
    summary="Check in a habit (day, or the moment `at` read in the habit's zone; sealed)",
    status_code=201,
    openapi_extra=body_schema(CheckinBody),
)
async def checkin_habit(request: Request, principal: Checker, habit_id: PositiveInt64) -> Any:
    body = await parse_body(request, CheckinBody)
    visions = _vision(request)
    item = await run_in_threadpool(
        lambda: visions.checkin(
            _h(principal),
            habit_id,
            day=body.day,
            at=body.at,
            value=body.value,
            note=body.note,
            evidence=body.evidence,
        )
    )
    return _created(item, f"/habits/{habit_id}/checkins/{item['id']}")


@router.get("/habits/{habit_id}/checkins", summary="A habit's check-ins (?since, ?until)")
def list_checkins(
    request: Request,
    principal: Reader,
    habit_id: PositiveInt64,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    return {"checkins": _vision(request).checkins(_h(principal), habit_id, since, until)}


@router.get("/habits/{habit_id}/checkins/{checkin_id}", summary="A check-in")
def get_checkin(
    request: Request, principal: Reader, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    return _vision(request).get_checkin(_h(principal), habit_id, checkin_id)


@router.get(
    "/habits/{habit_id}/checkins/{checkin_id}/receipt",
    summary="The ledger proof of a check-in",
)
def checkin_receipt(
    request: Request, principal: Reader, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    item = _vision(request).get_checkin(_h(principal), habit_id, checkin_id)
    return _receipt(request, principal, item["leafIndex"], f"check-in {checkin_id}")


@router.delete(
    "/habits/{habit_id}/checkins/{checkin_id}",
    summary="Delete a check-in (its leaf stays in the log)",
    status_code=204,
)
def delete_checkin(
    request: Request, principal: Admin, habit_id: PositiveInt64, checkin_id: PositiveInt64
) -> Response:
    _vision(request).delete_checkin(_h(principal), habit_id, checkin_id)
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
    visions = _vision(request)
    kr_id = await run_in_threadpool(
        lambda: visions.create_key_result(
            _h(principal),
            body.title,
            start_value=body.start_value,
            target_value=body.target_value,
            unit=body.unit,
            weight=body.weight,
            milestone_ids=body.milestone_ids,
        )
    )
    item = await run_in_threadpool(visions.get_key_result, _h(principal), kr_id)
    return _created(item, f"/key-results/{kr_id}")


@router.get("/key-results", summary="Key results with their current value and progress")
def list_key_results(request: Request, principal: Reader) -> dict[str, Any]:
    return {"keyResults": _vision(request).list_key_results(_h(principal))}


@router.get("/key-results/{key_result_id}", summary="A key result")
def get_key_result(request: Request, principal: Reader, key_result_id: PositiveInt64) -> Any:
    return _vision(request).get_key_result(_h(principal), key_result_id)


@router.patch(
    "/key-results/{key_result_id}",
    summary="Change a key result",
    openapi_extra=body_schema(KeyResultPatch),
)
async def patch_key_result(request: Request, principal: Admin, key_result_id: PositiveInt64) -> Any:
    body = await parse_body(request, KeyResultPatch)
    return await run_in_threadpool(
        _vision(request).update_key_result, _h(principal), key_result_id, _changes(body)
    )


@router.delete("/key-results/{key_result_id}", summary="Delete a key result", status_code=204)
def delete_key_result(request: Request, principal: Admin, key_result_id: PositiveInt64) -> Response:
    _vision(request).delete_key_result(_h(principal), key_result_id)
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
    visions = _vision(request)
    item = await run_in_threadpool(
        lambda: visions.key_result_checkin(
            _h(principal),
            key_result_id,
            body.value,
            day=body.day,
            note=body.note,
            evidence=body.evidence,
        )
    )
    return _created(item, f"/key-results/{key_result_id}/checkins/{item['id']}")


@router.get("/key-results/{key_result_id}/checkins", summary="A key result's check-ins")
def list_key_result_checkins(
    request: Request, principal: Reader, key_result_id: PositiveInt64
) -> dict[str, Any]:
    return {"checkins": _vision(request).key_result_checkins(_h(principal), key_result_id)}


@router.get(
    "/key-results/{key_result_id}/checkins/{checkin_id}/receipt",
    summary="The ledger proof of a key result's check-in",
)
def key_result_checkin_receipt(
    request: Request, principal: Reader, key_result_id: PositiveInt64, checkin_id: PositiveInt64
) -> Any:
    leaf = _vision(request).key_result_checkin_leaf(_h(principal), key_result_id, checkin_id)
    return _receipt(request, principal, leaf, f"check-in {checkin_id}")


@router.delete(
    "/key-results/{key_result_id}/checkins/{checkin_id}",
    summary="Delete a key result's check-in (its leaf stays in the log)",
    status_code=204,
)
def delete_key_result_checkin(
    request: Request, principal: Admin, key_result_id: PositiveInt64, checkin_id: PositiveInt64
) -> Response:
    _vision(request).delete_key_result_checkin(_h(principal), key_result_id, checkin_id)
    return Response(status_code=204)
