"""`tzzr flows …`: ALFRED's flows from the command line."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tzzr.console import build_services, fail, out
from tzzr.errors import TzzrError

flows_app = typer.Typer(help="ALFRED's flows.", no_args_is_help=True)


@flows_app.command("list")
def flows_list() -> None:
    """List flows (the newest version of each)."""
    table = Table("id", "version", "priority", "trigger", "steps", "decision")
    for row in build_services().flows.live():
        spec = row.spec
        trigger = spec["trigger"]
        match = trigger.get("match", {})
        what = (
            "fallback"
            if trigger.get("fallback")
            else ", ".join(match.get("mediaType", [])) or "any"
        )
        table.add_row(
            row.id,
            str(row.version),
            str(spec.get("priority", 0)),
            f"{trigger['on']}: {what}",
            " → ".join(f"{s['id']}({s['cell']})" for s in spec["steps"]) or "-",
            spec["decision"],
        )
    out.print(table)


@flows_app.command("apply")
def flows_apply(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="YAML or JSON spec.")],
) -> None:
    """Create a flow, or a new version of it, from a YAML or JSON file."""
    from tzzr.flows.spec import load

    kind = "application/json" if file.suffix == ".json" else "application/yaml"
    services = build_services()
    try:
        spec = load(file.read_bytes(), kind)
        try:
            row = services.flows.update(spec.id, spec)
        except TzzrError as exc:
            if exc.status != 404:
                raise
            row = services.flows.create(spec)
    except TzzrError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"{file}{where}: {exc.message}") from exc
    out.print(f"{row.id}\tversion {row.version}")


@flows_app.command("delete")
def flows_delete(flow_id: str) -> None:
    """Delete a flow (its versions stay in the history)."""
    try:
        build_services().flows.delete(flow_id)
    except TzzrError as exc:
        raise fail(exc.message) from exc


@flows_app.command("install-defaults")
def flows_defaults() -> None:
    """Install the shipped flows on a database that has none (tzzr serve does it too)."""
    count = build_services().flows.ensure_defaults()
    out.print(f"installed {count} flows" if count else "flows exist already; nothing changed")


def register(app: typer.Typer) -> None:
    app.add_typer(flows_app, name="flows")
