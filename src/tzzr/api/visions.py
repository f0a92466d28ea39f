"""VISION BUILDER over HTTP: /visions, /milestones, /actions and their links here;
/habits and /key-results in tzzr.api.habits (included in this router).

Roles: `read` for every GET; `ingest` for a check-in (a habit's or a key result's): the
key a phone holds to send captures may also say "I did it today"; `admin` for everything
else that writes (creating, changing, linking, deleting, importing)."""

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from tzzr.api import habits
from tzzr.api.deps import body_schema, parse_body
from tzzr.api.vision_common import (
    Admin,
    Body,
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
from tzzr.types import PositiveInt64
from tzzr.vision import calendar

router = APIRouter()


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
    visions = store(request)
    vision_id = await run_in_threadpool(
        visions.create_vision, h_of(principal), body.title, body.description, body.status
    )
    tree = await run_in_threadpool(visions.tree, h_of(principal), vision_id)
    return created(tree, f"/visions/{vision_id}")


@router.get("/visions", summary="Visions with their progress")
def list_visions(request: Request, principal: Reader, status: str | None = None) -> dict[str, Any]:
    return {"visions": store(request).list_visions(h_of(principal), status)}


@router.get("/visions/{vision_id}", summary="A vision's tree, with everyone's progress")
def get_vision(request: Request, principal: Reader, vision_id: PositiveInt64) -> dict[str, Any]:
    tree: dict[str, Any] = store(request).tree(h_of(principal), vision_id)
    return tree


@router.patch(
    "/visions/{vision_id}", summary="Change a vision", openapi_extra=body_schema(VisionPatch)
)
async def patch_vision(request: Request, principal: Admin, vision_id: PositiveInt64) -> Any:
    body = await parse_body(request, VisionPatch)
    return await run_in_threadpool(
        store(request).update_vision, h_of(principal), vision_id, changes(body)
    )


@router.delete(
    "/visions/{vision_id}",
    summary="Delete a vision (its milestones stay)",
    status_code=204,
)
def delete_vision(request: Request, principal: Admin, vision_id: PositiveInt64) -> Response:
    store(request).delete_vision(h_of(principal), vision_id)
    return Response(status_code=204)


@router.get("/visions/{vision_id}/receipt", summary="The ledger proof of a vision's creation")
def vision_receipt(request: Request, principal: Reader, vision_id: PositiveInt64) -> Any:
    leaf = store(request).leaf_of(h_of(principal), "vision", vision_id)
    return receipt(request, principal, leaf, f"vision {vision_id}")


@router.get(
    "/visions/{vision_id}/calendar.ics",
    summary="The vision's actions with dates, as iCalendar",
    response_class=Response,
)
def vision_calendar(request: Request, principal: Reader, vision_id: PositiveInt64) -> Response:
    visions = store(request)
    tree = visions.tree(h_of(principal), vision_id)
    actions = visions.list_actions(h_of(principal), vision_id=vision_id)
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
    store(request).link(h_of(principal), "vision", vision_id, "milestone", milestone_id)
    return Response(status_code=204)


@router.delete(
    "/visions/{vision_id}/milestones/{milestone_id}",
    summary="Detach a milestone from a vision",
    status_code=204,
)
def unlink_milestone(
    request: Request, principal: Admin, vision_id: PositiveInt64, milestone_id: PositiveInt64
) -> Response:
    store(request).unlink(h_of(principal), "vision", vision_id, "milestone", milestone_id)
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
    visions = store(request)
    milestone_id = await run_in_threadpool(
        lambda: visions.create_milestone(
            h_of(principal),
            body.title,
            target_date=body.target_date,
            weight=body.weight,
            description=body.description,
            vision_ids=body.vision_ids,
        )
    )
    item = await run_in_threadpool(visions.get_milestone, h_of(principal), milestone_id)
    return created(item, f"/milestones/{milestone_id}")


@router.get("/milestones", summary="Milestones with their progress")
def list_milestones(request: Request, principal: Reader) -> dict[str, Any]:
    return {"milestones": store(request).list_milestones(h_of(principal))}


@router.get("/milestones/{milestone_id}", summary="A milestone, its children and progress")
def get_milestone(request: Request, principal: Reader, milestone_id: PositiveInt64) -> Any:
    return store(request).get_milestone(h_of(principal), milestone_id)


@router.patch(
    "/milestones/{milestone_id}",
    summary="Change a milestone (achieved: true seals it)",
    openapi_extra=body_schema(MilestonePatch),
)
async def patch_milestone(request: Request, principal: Admin, milestone_id: PositiveInt64) -> Any:
    body = await parse_body(request, MilestonePatch)
    return await run_in_threadpool(
        store(request).update_milestone, h_of(principal), milestone_id, changes(body)
    )


@router.delete("/milestones/{milestone_id}", summary="Delete a milestone", status_code=204)
def delete_milestone(request: Request, principal: Admin, milestone_id: PositiveInt64) -> Response:
    store(request).delete_milestone(h_of(principal), milestone_id)
    return Response(status_code=204)


@router.get(
    "/milestones/{milestone_id}/receipt", summary="The ledger proof of a milestone achieved"
)
def milestone_receipt(request: Request, principal: Reader, milestone_id: PositiveInt64) -> Any:
    leaf = store(request).leaf_of(h_of(principal), "milestone", milestone_id)
    return receipt(request, principal, leaf, f"milestone {milestone_id}")


@router.put(
    "/milestones/{milestone_id}/actions/{action_id}",
    summary="Count an action toward a milestone",
    status_code=204,
)
def attach_action(
    request: Request, principal: Admin, milestone_id: PositiveInt64, action_id: PositiveInt64
) -> Response:
    store(request).link(h_of(principal), "milestone", milestone_id, "action", action_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/actions/{action_id}",
    summary="Detach an action from a milestone",
    status_code=204,
)
def detach_action(
    request: Request, principal: Admin, milestone_id: PositiveInt64, action_id: PositiveInt64
) -> Response:
    store(request).unlink(h_of(principal), "milestone", milestone_id, "action", action_id)
    return Response(status_code=204)


@router.put(
    "/milestones/{milestone_id}/habits/{habit_id}",
    summary="Count a habit toward a milestone",
    status_code=204,
)
def attach_habit(
    request: Request, principal: Admin, milestone_id: PositiveInt64, habit_id: PositiveInt64
) -> Response:
    store(request).link(h_of(principal), "milestone", milestone_id, "habit", habit_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/habits/{habit_id}",
    summary="Detach a habit from a milestone",
    status_code=204,
)
def detach_habit(
    request: Request, principal: Admin, milestone_id: PositiveInt64, habit_id: PositiveInt64
) -> Response:
    store(request).unlink(h_of(principal), "milestone", milestone_id, "habit", habit_id)
    return Response(status_code=204)


@router.put(
    "/milestones/{milestone_id}/key-results/{key_result_id}",
    summary="Count a key result toward a milestone",
    status_code=204,
)
def attach_key_result(
    request: Request, principal: Admin, milestone_id: PositiveInt64, key_result_id: PositiveInt64
) -> Response:
    store(request).link(h_of(principal), "milestone", milestone_id, "key_result", key_result_id)
    return Response(status_code=204)


@router.delete(
    "/milestones/{milestone_id}/key-results/{key_result_id}",
    summary="Detach a key result from a milestone",
    status_code=204,
)
def detach_key_result(
    request: Request, principal: Admin, milestone_id: PositiveInt64, key_result_id: PositiveInt64
) -> Response:
    store(request).unlink(h_of(principal), "milestone", milestone_id, "key_result", key_result_id)
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
    visions = store(request)
    action_id = await run_in_threadpool(
        lambda: visions.create_action(
            h_of(principal),
            body.title,
            due=body.due,
            weight=body.weight,
            notes=body.notes,
            evidence=body.evidence,
            milestone_ids=body.milestone_ids,
        )
    )
    item = await run_in_threadpool(visions.get_action, h_of(principal), action_id)
    return created(item, f"/actions/{action_id}")


@router.get("/actions", summary="Actions (?milestone_id, ?vision_id, ?done)")
def list_actions(
    request: Request,
    principal: Reader,
    milestone_id: PositiveInt64 | None = None,
    vision_id: PositiveInt64 | None = None,
    done: bool | None = None,
) -> dict[str, Any]:
    found = store(request).list_actions(
        h_of(principal), milestone_id=milestone_id, vision_id=vision_id, done=done
    )
    return {"actions": found}


@router.get(
    "/actions.ics",
    summary="Every action with a due date, as iCalendar",
    response_class=Response,
)
def actions_calendar(request: Request, principal: Reader) -> Response:
    actions = store(request).list_actions(h_of(principal))
    body = calendar.actions_ics(actions, principal.instance.name, None)
    return Response(body, media_type=calendar.MEDIA_TYPE)


@router.get("/actions/{action_id}", summary="An action")
def get_action(request: Request, principal: Reader, action_id: PositiveInt64) -> Any:
    return store(request).get_action(h_of(principal), action_id)


@router.patch(
    "/actions/{action_id}",
    summary="Change an action (done: true seals it)",
    openapi_extra=body_schema(ActionPatch),
)
async def patch_action(request: Request, principal: Admin, action_id: PositiveInt64) -> Any:
    body = await parse_body(request, ActionPatch)
    return await run_in_threadpool(
        store(request).update_action, h_of(principal), action_id, changes(body)
    )


@router.delete("/actions/{action_id}", summary="Delete an action", status_code=204)
def delete_action(request: Request, principal: Admin, action_id: PositiveInt64) -> Response:
    store(request).delete_action(h_of(principal), action_id)
    return Response(status_code=204)


@router.get("/actions/{action_id}/receipt", summary="The ledger proof of an action done")
def action_receipt(request: Request, principal: Reader, action_id: PositiveInt64) -> Any:
    leaf = store(request).leaf_of(h_of(principal), "action", action_id)
    return receipt(request, principal, leaf, f"action {action_id}")


# The habits' routes are this router's own (not an included router, which this FastAPI
# keeps as a wrapper that roles.annotate would not see).
router.routes.extend(habits.router.routes)
