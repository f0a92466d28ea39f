"""`tzzr vision …`: visions, milestones, actions, habits and THE FACTORY from the shell,
against TZZR_HOME's services (the same the server builds)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tzzr.cli.console import DEFAULT_INSTANCE, build_services, err, fail, out
from tzzr.cli.params import App
from tzzr.errors import TzzrError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tzzr.services import Services

T = TypeVar("T")
vision_app = App(help="VISION BUILDER: visions, milestones, actions, habits (docs/vision.md).")
milestone_app = App(help="Milestones of a vision.")
action_app = App(help="Actions toward a milestone.")
habit_app = App(help="Habits and their check-ins.")
vision_app.add_typer(milestone_app, name="milestone")
vision_app.add_typer(action_app, name="action")
vision_app.add_typer(habit_app, name="habit")

InstanceName = Annotated[
    str, typer.Option("--instance", "-i", metavar="NAME", help="The instance.")
]
Weight = Annotated[float, typer.Option(min=0.000001, help="Its weight in the roll-up.")]


@contextmanager
def _session(instance: str) -> Iterator[tuple["Services", str]]:
    """The services and the instance's h_instancia; a TzzrError is one line and exit 1."""
    services = build_services()
    try:
        yield services, services.instances.get(instance).h_instancia
    except TzzrError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"{exc.message}{where}") from exc
    finally:
        services.close()


def _call(instance: str, action: Callable[["Services", str], T]) -> T:
    with _session(instance) as (services, h):
        return action(services, h)


def _bar(progress: float, label: str) -> "RenderableType":
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    row = Table.grid(padding=(0, 1))
    row.add_row(ProgressBar(total=1.0, completed=progress, width=20), f"{progress:4.0%}", label)
    return row


# -- visions -------------------------------------------------------------------------
@vision_app.command("add")
def vision_add(
    title: Annotated[str, typer.Argument(metavar="TITLE")],
    description: Annotated[str, typer.Option(help="What it is, in a few lines.")] = "",
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Create a vision (sealed in the ledger); prints its id."""
    found = _call(instance, lambda s, h: s.visions.create_vision(h, title, description))
    out.print(found)


@vision_app.command("list")
def vision_list(instance: InstanceName = DEFAULT_INSTANCE) -> None:
    """The instance's visions with their progress."""
    from rich.markup import escape

    visions = _call(instance, lambda s, h: s.visions.list_visions(h))
    if not visions:
        err.print("no visions yet: tzzr vision add TITLE")
    for v in visions:
        out.print(_bar(v["progress"], f"{v['id']}  {escape(v['title'])}  ({v['status']})"))


@vision_app.command("show")
def vision_show(
    vision_id: Annotated[int, typer.Argument(metavar="VISION")],
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """A vision as a tree: milestones, actions, habits, key results, with progress."""
    from rich.markup import escape
    from rich.tree import Tree

    found = _call(instance, lambda s, h: s.visions.tree(h, vision_id))
    tree = Tree(
        _bar(found["progress"], f"[bold]{escape(found['title'])}[/bold] (vision {vision_id})")
    )
    for m in found["milestones"]:
        due = f" by {m['targetDate']}" if m["targetDate"] else ""
        mark = " ✓" if m["achieved"] else ""
        branch = tree.add(
            _bar(m["progress"], f"{escape(m['title'])}{due}{mark} (milestone {m['id']})")
        )
        for a in m["actions"]:
            when = f" due {a['due']}" if a["due"] else ""
            branch.add(f"{'✓' if a['done'] else '·'} {escape(a['title'])}{when} (action {a['id']})")
        for habit in m["habits"]:
            branch.add(
                _bar(
                    habit["strength"],
                    f"habit {escape(habit['name'])}: streak {habit['currentStreak']}"
                    f" (habit {habit['id']})",
                )
            )
        for kr in m["keyResults"]:
            branch.add(
                _bar(
                    kr["progress"],
                    f"{escape(kr['title'])}: {kr['currentValue']:g} of {kr['targetValue']:g}",
                )
            )
    out.print(tree)


# -- milestones and actions ----------------------------------------------------------
@milestone_app.command("add")
def milestone_add(
    vision_id: Annotated[int, typer.Argument(metavar="VISION")],
    title: Annotated[str, typer.Argument(metavar="TITLE")],
    target_date: Annotated[
        str | None, typer.Option(metavar="DATE", help="When, as 2027-03-01.")
    ] = None,
    weight: Weight = 1.0,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Add a milestone to a vision; prints its id."""
    found = _call(
        instance,
        lambda s, h: s.visions.add_milestone(h, vision_id, title, target_date, weight),
    )
    out.print(found)


@milestone_app.command("achieved")
def milestone_achieved(
    milestone_id: Annotated[int, typer.Argument(metavar="MILESTONE")],
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Mark a milestone achieved (sealed in the ledger)."""
    found = _call(
        instance, lambda s, h: s.visions.update_milestone(h, milestone_id, {"achieved": True})
    )
    out.print(f"milestone {milestone_id} achieved; leaf {found['leafIndex']}")


@action_app.command("add")
def action_add(
    milestone_id: Annotated[int, typer.Argument(metavar="MILESTONE")],
    title: Annotated[str, typer.Argument(metavar="TITLE")],
    due: Annotated[str | None, typer.Option(metavar="DATE", help="Due, as 2027-01-15.")] = None,
    weight: Weight = 1.0,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Add an action toward a milestone; prints its id."""
    found = _call(instance, lambda s, h: s.visions.add_action(h, milestone_id, title, due, weight))
    out.print(found)


@action_app.command("done")
def action_done(
    action_id: Annotated[int, typer.Argument(metavar="ACTION")],
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Mark an action done (sealed in the ledger)."""
    found = _call(instance, lambda s, h: s.visions.update_action(h, action_id, {"done": True}))
    out.print(f"action {action_id} done; leaf {found['leafIndex']}")


# -- habits --------------------------------------------------------------------------
@habit_app.command("add")
def habit_add(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    times: Annotated[int, typer.Option(min=1, help="Times per interval.")] = 1,
    every: Annotated[int, typer.Option(min=1, metavar="DAYS", help="The interval, in days.")] = 1,
    target: Annotated[
        float | None, typer.Option(help="A numeric habit's target per interval.")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="A numeric habit's unit.")] = None,
    tz: Annotated[str, typer.Option(help="Its days' time zone (IANA).")] = "UTC",
    milestone: Annotated[
        list[int] | None, typer.Option(metavar="MILESTONE", help="A milestone it serves.")
    ] = None,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Add a habit: yes/no, or numeric with --target; prints its id."""
    kind = "numeric" if target is not None else "boolean"
    found = _call(
        instance,
        lambda s, h: s.visions.create_habit(
            h,
            name,
            kind=kind,
            times=times,
            interval_days=every,
            target=target,
            unit=unit,
            tz=tz,
            milestone_ids=milestone or [],
        ),
    )
    out.print(found)


@habit_app.command("checkin")
def habit_checkin(
    habit_id: Annotated[int, typer.Argument(metavar="HABIT")],
    day: Annotated[str | None, typer.Option(metavar="DATE", help="Default: today there.")] = None,
    value: Annotated[float | None, typer.Option(help="A numeric habit's amount.")] = None,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Check in a habit (sealed in the ledger)."""
    found = _call(instance, lambda s, h: s.visions.checkin(h, habit_id, day=day, value=value))
    out.print(f"habit {habit_id} checked in on {found['day']}; leaf {found['leafIndex']}")


@habit_app.command("list")
def habit_list(
    days: Annotated[int, typer.Option(min=0, max=400, help="Days shown.")] = 28,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Habits: the last days, the streak and the strength."""
    from rich.table import Table

    habits = _call(instance, lambda s, h: s.visions.list_habits(h, days=days))
    table = Table("id", "habit", "last days", "streak", "best", "strength", show_edge=False)
    for habit in habits:
        grid = "".join("■" if d["done"] else "·" for d in habit.get("recent", []))
        table.add_row(
            str(habit["id"]),
            habit["name"],
            grid,
            str(habit["currentStreak"]),
            str(habit["bestStreak"]),
            f"{habit['strength']:.0%}",
        )
    out.print(table)


@vision_app.command("import-loop")
def import_loop(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            metavar="FILE",
            help="Loop's zip, Habits.csv or Checkmarks.csv.",
        ),
    ],
    tz: Annotated[str, typer.Option(help="The imported habits' time zone.")] = "UTC",
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Import a Loop Habit Tracker CSV export."""
    from tzzr.vision import loop

    kind = "application/zip" if file.suffix == ".zip" else "text/csv"
    found: dict[str, Any] = _call(
        instance, lambda s, h: loop.import_bytes(s.visions, h, file.read_bytes(), kind, tz)
    )
    for habit in found["habits"]:
        made = "new" if habit["created"] else "existing"
        out.print(f"{habit['id']}\t{habit['name']}\t{made}\t{habit['checkins']} check-ins")
    for note in found["notes"]:
        err.print(note)


@vision_app.command("ics")
def ics(
    vision_id: Annotated[
        int | None, typer.Argument(metavar="VISION", help="One vision (default: every action).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Default: stdout.")
    ] = None,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """Actions with due dates as iCalendar."""
    from tzzr.vision import calendar

    def build(services: "Services", h: str) -> bytes:
        title = services.visions.tree(h, vision_id)["title"] if vision_id else None
        actions = services.visions.list_actions(h, vision_id=vision_id)
        return calendar.actions_ics(actions, instance, title)

    body = _call(instance, build)
    if output is None:
        typer.echo(body.decode(), nl=False)
    else:
        output.write_bytes(body)


@vision_app.command("verify")
def verify(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, metavar="FILE", help="A …/receipt answer, saved."
        ),
    ],
    key: Annotated[
        list[str] | None,
        typer.Option(metavar="VERIFIER_KEY", help="The instance's key to trust (repeatable)."),
    ] = None,
) -> None:
    """Verify a vision receipt offline: the signed checkpoint, the inclusion proof and, for
    a check-in, that the leaf seals its record. Needs no server and no database."""
    import json

    from tzzr.vision.receipt import ReceiptError
    from tzzr.vision.receipt import verify as check

    try:
        found = check(json.loads(file.read_text()), key or None)
    except (ReceiptError, ValueError) as exc:
        raise fail(f"NOT VERIFIED: {exc}") from exc
    pinned = "the key given" if found.pinned else "the receipt's own keys (pin one with --key)"
    out.print(f"VERIFIED {found.event} {found.ref}, sealed {found.ts}", soft_wrap=True)
    out.print(
        f"leaf {found.leaf_index} of {found.tree_size} in {found.origin}, signed by "
        f"{found.signer} (checked with {pinned})",
        soft_wrap=True,
    )
    if found.record is not None:
        out.print(
            f"record: {json.dumps(found.record, sort_keys=True)}", soft_wrap=True, markup=False
        )


# -- THE FACTORY ---------------------------------------------------------------------
@vision_app.command("refine")
def refine(
    vision_id: Annotated[int, typer.Argument(metavar="VISION")],
    goal: Annotated[str, typer.Option(help="What it should achieve (default: its title).")] = "",
    deadline: Annotated[str | None, typer.Option(metavar="DATE", help="By 2027-06-30.")] = None,
    start: Annotated[str | None, typer.Option(metavar="DATE", help="From (default today).")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=5, help="Rounds at most.")] = 3,
    accept: Annotated[
        list[str] | None, typer.Option(metavar="ITEM", help="Accept an item (repeatable).")
    ] = None,
    reject: Annotated[
        list[str] | None, typer.Option(metavar="ITEM", help="Reject an item (repeatable).")
    ] = None,
    instance: InstanceName = DEFAULT_INSTANCE,
) -> None:
    """THE FACTORY: refine a vision in rounds (the model of TZZR_LLM_BASE_URL, or the
    deterministic planner), print each round and the items, then accept or reject items
    (milestones before their actions)."""
    import time

    from tzzr.factory.service import RefineBody

    constraints: dict[str, Any] = {}
    if deadline:
        constraints["deadline"] = deadline
    if start:
        constraints["start"] = start
    with _session(instance) as (services, _h):
        info = services.instances.get(instance)
        body = RefineBody(
            target={"vision": vision_id}, goal=goal, constraints=constraints, rounds=rounds
        )
        job_id = services.factory.refine(info, body)
        while (job := services.factory.get(info, job_id))["status"] not in ("done", "failed"):
            time.sleep(0.1)
        if job["status"] == "failed":
            raise fail(f"THE FACTORY failed: {job['error']['message']}")
        out.print(f"refinement {job_id} by the {job['planner']}")
        for made in job["rounds"]:
            diff = made["diff"]
            out.print(
                f"round {made['number']} ({made['model']}): {len(made['critique'])} note(s), "
                f"+{len(diff['added'])} -{len(diff['removed'])} ~{len(diff['changed'])}, "
                f"leaf {made['leafIndex']}"
            )
        for item in job["items"]:
            when = item.get("targetDate") if item["kind"] == "milestone" else item.get("due")
            indent = "  " if item["kind"] == "action" else ""
            out.print(f"{indent}{item['id']:>4} {item['kind']:<9} {item['title']} ({when or '-'})")
        for item_id, verb in [
            *((i, True) for i in accept or []),
            *((i, False) for i in reject or []),
        ]:
            decided = services.factory.decide(info, job_id, item_id, verb)
            made_as = f" as {decided['objectKind']} {decided['objectId']}" if verb else ""
            out.print(f"{item_id} {decided['decision']}{made_as}")


def register(app: App) -> None:
    """Adds the `vision` command group."""
    app.add_typer(vision_app, name="vision")
