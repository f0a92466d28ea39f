"""THE FACTORY's service (`services.factory`): refinements as resumable jobs.

`refine` decomposes a vision in rounds of propose → critique → revise: round 1 proposes
a draft (the model, or the deterministic planner), each later round critiques the draft
before it (the model's notes and the checks of drafts.check) and revises it; the planner
stops early once the checks find nothing. Every round is stored with its diff and
attested (tzzr.factory.rounds). A person then accepts or rejects each item of the last
round: an accepted milestone becomes a milestone of the vision, an accepted action an
action of its (accepted) milestone, through services.visions.

`specialize` runs a cell's specialisation as rounds (tzzr.factory.tune)."""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.cells.catalog import Catalog
from tzzr.cells.specialize import SpecializeBody, base_of, version_for
from tzzr.config import Settings
from tzzr.db.engine import write_transaction
from tzzr.db.models import Job
from tzzr.db.models_factory import FactoryDecision
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.factory import drafts, planner
from tzzr.factory import space as spaces
from tzzr.factory.llm import ChatModel
from tzzr.factory.rounds import Made, Rounds, combined, record_of
from tzzr.feldman.log import Ledger
from tzzr.instances import InstanceInfo
from tzzr.jobs import Jobs, Turn
from tzzr.states import JobStatus
from tzzr.times import rfc3339
from tzzr.validation import first_error, invalid_input
from tzzr.vision.service import Visions
from tzzr.vision.store import FIRST_DAY, LAST_DAY, in_range

Clock = Callable[[], datetime]
REFINE, SPECIALIZE = "refine", "specialize"
MAX_ROUNDS = 5

SYSTEM = (
    "You are THE FACTORY of TZZR: you break a person's vision into milestones (each with a "
    "target date and a weight) and the concrete actions under each (each with a due date). "
    "Dates are YYYY-MM-DD. Keep the ids of items you keep; give new items an empty id."
)


class VisionConstraints(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deadline: date | None = None
    start: date | None = None
    max_milestones: int = Field(default=6, ge=1, le=8, alias="maxMilestones")
    actions_per_milestone: int = Field(default=3, ge=1, le=6, alias="actionsPerMilestone")

    @model_validator(mode="after")
    def _order(self) -> "VisionConstraints":
        for name, day in (("deadline", self.deadline), ("start", self.start)):
            if day is not None and not in_range(day):
                raise ValueError(
                    f"{name} must be from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
                )
        if self.deadline and self.start and self.deadline <= self.start:
            raise ValueError("deadline must come after start")
        return self


class RefineBody(BaseModel):
    """`POST /factory/refine`: a vision to decompose, or a cell to specialise."""

    model_config = ConfigDict(extra="forbid")

    target: dict[Literal["vision", "cell"], int | str] = Field(min_length=1, max_length=1)
    goal: str = Field(default="", max_length=4000)
    constraints: dict[str, Any] = {}
    rounds: int | None = Field(default=None, ge=1, le=MAX_ROUNDS)


class Factory:
    def __init__(
        self,
        engine: Engine,
        jobs: Jobs,
        ledger: Ledger,
        visions: Visions,
        catalog: Catalog,
        settings: Settings,
        clock: Clock,
    ) -> None:
        self._engine = engine
        self._jobs = jobs
        self._visions = visions
        self._catalog = catalog
        self._settings = settings
        self._clock = clock
        self.rounds = Rounds(engine, ledger)
        jobs.resumable(REFINE, self._refine)
        jobs.resumable(SPECIALIZE, self._specialize)

    def model(self) -> ChatModel | None:
        return ChatModel.from_settings(self._settings)

    @property
    def planner_name(self) -> str:
        return self._settings.llm_model if self._settings.llm_base_url else drafts.DETERMINISTIC

    # -- starting --------------------------------------------------------------------
    def refine(self, instance: InstanceInfo, body: RefineBody) -> str:
        ((kind, target),) = body.target.items()
        if kind == "cell":
            try:
                spec = SpecializeBody.model_validate(
                    {
                        "prompt": body.goal or "specialise",
                        "constraints": body.constraints,
                        "rounds": body.rounds,
                    }
                )
            except ValidationError as exc:  # constraints.latencyMs: "abc", an unknown one
                raise invalid_input(exc) from exc
            return self.specialize(instance, str(target), spec)
        if not isinstance(target, int) or isinstance(target, bool) or not 1 <= target < 2**63:
            raise InvalidInput("target.vision must be a vision's id (a number)", field="target")
        try:
            constraints = VisionConstraints.model_validate(body.constraints)
        except ValidationError as exc:
            first = first_error(exc)
            where = ".".join(str(p) for p in first.loc)
            raise InvalidInput(
                f"constraints{'.' + where if where else ''}: {first.message}. Known: "
                "deadline, start (dates), maxMilestones, actionsPerMilestone",
                field="constraints",
            ) from exc
        vision = self._visions.get_vision(instance.h_instancia, target)  # 404 first
        goal = body.goal.strip() or " ".join(
            p for p in (vision.get("title", ""), vision.get("description", "")) if p
        )
        if not goal:
            raise InvalidInput("goal: say what the vision should achieve", field="goal")
        start = constraints.start or self._clock().date()
        request = {
            "target": {"vision": target},
            "goal": goal,
            "constraints": {
                **constraints.model_dump(mode="json", by_alias=True),
                "start": start.isoformat(),
            },
            "rounds": body.rounds or 3,
            "planner": self.planner_name,
        }
        return self._jobs.start(instance, REFINE, request)

    def specialize(self, instance: InstanceInfo, cell_id: str, body: SpecializeBody) -> str:
        newest = base_of(self._catalog, instance.h_instancia, cell_id)  # 404 / 422 first
        spaces.from_request(body.space)  # 422 naming the bad range
        request = {
            "cellId": cell_id,
            **body.model_dump(),
            "instance": instance.h_instancia,
            "version": version_for(newest, body.version),  # 409 when not newer
            "body": body.model_dump(),
        }
        return self._jobs.start(instance, SPECIALIZE, request)

    # -- the work --------------------------------------------------------------------
    def _specialize(self, turn: Turn) -> dict[str, Any]:
        from tzzr.factory.tune import Tuner  # optuna (and numpy) load when a job runs

        tuner = Tuner(self._catalog, self.rounds, self.model())
        result = tuner.run(turn, self._clock())
        result["record"] = f"/factory/jobs/{turn.job_id}"
        return result

    def _refine(self, turn: Turn) -> dict[str, Any]:
        request = turn.request
        h_instancia = self._instance_of(turn.job_id)
        constraints = request["constraints"]
        deadline = date.fromisoformat(constraints["deadline"]) if constraints["deadline"] else None
        start = date.fromisoformat(constraints["start"])
        total = int(request["rounds"])
        model = self.model()
        done = self.rounds.load(turn.job_id)
        items: list[dict[str, Any]] = done[-1]["draft"]["items"] if done else []
        for number in range(len(done) + 1, total + 1):
            turn.progress(number - 1, total, f"round {number} of {total}")
            if number == 1:
                new, made, notes = self._propose(model, request, start, deadline)
            else:
                notes = drafts.check(items, deadline)
                if model is None and not notes:
                    break  # the planner has nothing left to fix
                new, made, notes = self._revise(model, request, items, notes, deadline)
            draft = {"planner": made.model, "summary": request["goal"][:400], "items": new}
            self.rounds.record(
                turn,
                h_instancia,
                number,
                draft,
                notes,
                drafts.diff(items, new),
                made,
                self._clock(),
            )
            items = new
            done.append({"number": number})
        turn.progress(len(done), len(done), "ready: accept or reject each item")
        return {
            "target": request["target"],
            "rounds": len(done),
            "planner": self.planner_name if model is None else model.model,
            "items": len(items),
            "openChecks": drafts.check(items, deadline),
        }

    def _instance_of(self, job_id: str) -> str:
        with self._engine.connect() as conn:
            found = conn.execute(select(Job.h_instancia).where(Job.id == job_id)).scalar()
        if found is None:
            raise NotFound(f"no job {job_id!r}")
        return str(found)

    def _propose(
        self,
        model: ChatModel | None,
        request: dict[str, Any],
        start: date,
        deadline: date | None,
    ) -> tuple[list[dict[str, Any]], Made, list[dict[str, str]]]:
        constraints = request["constraints"]
        if model is None:
            items = planner.plan(
                request["goal"],
                start,
                deadline,
                constraints["maxMilestones"],
                constraints["actionsPerMilestone"],
            )
            asked = sha256_hex(
                canonical_json({"goal": request["goal"], "constraints": constraints})
            )
            made = Made(
                drafts.DETERMINISTIC,
                asked,
                sha256_hex(canonical_json(items)),
                {"planner": "deterministic", "start": start.isoformat()},
            )
            return items, made, []
        user = canonical_json(
            {"task": "propose", "goal": request["goal"], "constraints": constraints}
        ).decode()
        answer = model.ask(SYSTEM, user, drafts.DRAFT_SCHEMA, "draft")
        items = drafts.from_answer(answer.data, [])
        made = Made(
            answer.model,
            answer.prompt_hash,
            answer.output_hash,
            {**answer.parameters, "calls": [{"step": "propose", "repaired": answer.repaired}]},
        )
        return items, made, []

    def _revise(
        self,
        model: ChatModel | None,
        request: dict[str, Any],
        items: list[dict[str, Any]],
        notes: list[dict[str, str]],
        deadline: date | None,
    ) -> tuple[list[dict[str, Any]], Made, list[dict[str, str]]]:
        if model is None:
            new = planner.revise(items, notes, deadline)
            asked = sha256_hex(canonical_json({"items": items, "notes": notes}))
            made = Made(
                drafts.DETERMINISTIC,
                asked,
                sha256_hex(canonical_json(new)),
                {"planner": "deterministic"},
            )
            return new, made, notes
        current = drafts.as_answer(items)
        critique = model.ask(
            SYSTEM,
            canonical_json(
                {
                    "task": "critique",
                    "goal": request["goal"],
                    "constraints": request["constraints"],
                    "draft": current,
                    "checks": notes,
                }
            ).decode(),
            drafts.CRITIQUE_SCHEMA,
            "critique",
        )
        all_notes = [*notes, *critique.data["notes"]]
        revised = model.ask(
            SYSTEM,
            canonical_json(
                {
                    "task": "revise",
                    "goal": request["goal"],
                    "constraints": request["constraints"],
                    "draft": current,
                    "critique": all_notes,
                }
            ).decode(),
            drafts.DRAFT_SCHEMA,
            "draft",
        )
        made = Made(
            revised.model,
            combined([critique.prompt_hash, revised.prompt_hash]),
            combined([critique.output_hash, revised.output_hash]),
            {
                **revised.parameters,
                "calls": [
                    {"step": "critique", "repaired": critique.repaired},
                    {"step": "revise", "repaired": revised.repaired},
                ],
            },
        )
        return drafts.from_answer(revised.data, items), made, all_notes

    # -- reading and deciding ----------------------------------------------------------
    def list(self, instance: InstanceInfo, vision_id: int | None = None) -> list[dict[str, Any]]:
        """The instance's latest 50 refinements and specialisations (of one vision)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(Job)
                .where(Job.h_instancia == instance.h_instancia, Job.kind.in_((REFINE, SPECIALIZE)))
                .order_by(Job.created_at.desc(), Job.id)
                .limit(200)
            ).all()
        out = []
        for row in found:
            target = row.request.get("target") or {"cell": row.request.get("cellId")}
            if vision_id is not None and target.get("vision") != vision_id:
                continue
            out.append(
                {
                    "jobId": row.id,
                    "kind": row.kind,
                    "status": row.status,
                    "target": target,
                    "goal": row.request.get("goal") or row.request.get("prompt"),
                    "planner": row.request.get("planner"),
                    "createdAt": rfc3339(row.created_at),
                }
            )
        return out[:50]

    def get(self, instance: InstanceInfo, job_id: str) -> dict[str, Any]:
        job = self._jobs.get(instance, job_id)
        rounds = self.rounds.load(job_id)
        decisions = self._decisions(job_id)
        last = [
            dict(item)  # the round's own draft stays as it was stored
            for item in (rounds[-1]["draft"].get("items", []) if rounds else [])
            if job["kind"] == REFINE
        ]
        for item in last:
            decided = decisions.get(item["id"])
            item["decision"] = decided["decision"] if decided else None
            item["objectId"] = decided["objectId"] if decided else None
        return {
            **job,
            "planner": job["request"].get("planner") if job["kind"] == REFINE else None,
            "rounds": rounds,
            "items": last,
            "decisions": list(decisions.values()),
        }

    def attested(
        self, instance: InstanceInfo, job_id: str, number: int
    ) -> tuple[int, dict[str, Any]]:
        """A round's attestation leaf and the record its hash seals."""
        self._jobs.get(instance, job_id)  # 404 for another instance's job
        found = [r for r in self.rounds.load(job_id) if r["number"] == number]
        if not found:
            raise NotFound(f"refinement {job_id} has no round {number}")
        return found[0]["leafIndex"], record_of(job_id, found[0])

    def _decisions(self, job_id: str) -> dict[str, dict[str, Any]]:
        with self._engine.connect() as conn:
            found = conn.execute(
                select(FactoryDecision)
                .where(FactoryDecision.job_id == job_id)
                .order_by(FactoryDecision.decided_at, FactoryDecision.item_id)
            ).all()
        return {
            row.item_id: {
                "itemId": row.item_id,
                "decision": row.decision,
                "round": row.round,
                "objectKind": row.object_kind,
                "objectId": row.object_id,
                "decidedAt": rfc3339(row.decided_at),
            }
            for row in found
        }

    def decide(
        self, instance: InstanceInfo, job_id: str, item_id: str, accept: bool
    ) -> dict[str, Any]:
        """Accept (the item becomes a milestone or an action) or reject one item of the
        last round; each item is decided once."""
        h_instancia = instance.h_instancia
        job = self._jobs.get(instance, job_id)
        if job["kind"] != REFINE:
            raise Conflict(
                "this job specialised a cell: its best round is already published; "
                "only a vision's refinement has items to accept"
            )
        if job["status"] != JobStatus.DONE:
            raise Conflict(f"the refinement is {job['status']}: decide its items once it is done")
        rounds = self.rounds.load(job_id)
        items = {i["id"]: i for i in rounds[-1]["draft"]["items"]} if rounds else {}
        item = items.get(item_id)
        if item is None:
            raise NotFound(f"no item {item_id!r} in the last round of refinement {job_id}")
        decisions = self._decisions(job_id)
        if item_id in decisions:
            raise Conflict(f"item {item_id} was already {decisions[item_id]['decision']}")
        number = rounds[-1]["number"]
        kind: str | None = None
        object_id: int | None = None
        source = {"factory": job_id, "round": number, "item": item_id}
        try:
            # the milestone or action and its decision are written together, or not at all
            with write_transaction(self._engine) as conn:
                if accept:
                    kind, object_id = self._accept(conn, h_instancia, job, item, decisions, source)
                conn.execute(
                    insert(FactoryDecision).values(
                        job_id=job_id,
                        item_id=item_id,
                        h_instancia=h_instancia,
                        decision="accepted" if accept else "rejected",
                        round=number,
                        object_kind=kind,
                        object_id=object_id,
                        decided_at=self._clock(),
                    )
                )
        except IntegrityError as exc:  # decided at the same moment by another request
            raise Conflict(f"item {item_id} was already decided") from exc
        return {
            "jobId": job_id,
            "itemId": item_id,
            "decision": "accepted" if accept else "rejected",
            "objectKind": kind,
            "objectId": object_id,
            "item": item,
        }

    def _accept(
        self,
        conn: Connection,
        h_instancia: str,
        job: dict[str, Any],
        item: dict[str, Any],
        decisions: dict[str, dict[str, Any]],
        source: dict[str, Any],
    ) -> tuple[str, int]:
        vision_id = int(job["request"]["target"]["vision"])
        if item["kind"] == "milestone":
            return "milestone", self._visions.add_milestone(
                h_instancia,
                vision_id,
                item["title"],
                target_date=item.get("targetDate"),
                weight=float(item.get("weight", 1.0)),
                source=source,
                description=item.get("description", ""),
                conn=conn,
            )
        parent = decisions.get(item.get("milestone", ""))
        if parent is None or parent["decision"] != "accepted":
            raise Conflict(
                f"action {item['id']} belongs to milestone {item.get('milestone')}: "
                "accept that milestone first"
            )
        return "action", self._visions.add_action(
            h_instancia,
            int(parent["objectId"]),
            item["title"],
            due=item.get("due"),
            weight=float(item.get("weight", 1.0)),
            source=source,
            conn=conn,
        )
