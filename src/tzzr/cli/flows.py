"""`tzzr flows …`: ALFRED's flows from the command line."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tzzr.cli.console import build_services, fail, out
from tzzr.cli.params import App
from tzzr.errors import TzzrError

if TYPE_CHECKING:
    from tzzr.services import Services

flows_app = App(help="ALFRED's flows (each instance has its own).")
InstanceName = Annotated[
    str, typer.Option("--instance", "-i", metavar="NAME", help="The instance whose flows.")
]


def _instance(services: "Services", name: str) -> str:
    try:
        return services.instances.get(name).h_instancia
    except TzzrError as exc:
        raise fail(exc.message) from exc


@flows_app.command("list")
def flows_list(instance: InstanceName = "deck") -> None:
    """List an instance's flows (the newest version of each)."""
    from rich.table import Table

    table = Table(
        "id", "version", "priority", "trigger", "steps", "decision", title=f"instance {instance}"
    )
    services = build_services()
    for row in services.flows.live(_instance(services, instance)):
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
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, metavar="PATH", help="YAML or JSON spec."),
    ],
    instance: InstanceName = "deck",
) -> None:
    """Create a flow of an instance, or a new version of it, from a YAML or JSON file."""
    from tzzr.flows.spec import load

    kind = "application/json" if file.suffix == ".json" else "application/yaml"
    services = build_services()
    h_instancia = _instance(services, instance)
    try:
        spec = load(file.read_bytes(), kind)
        try:
            row = services.flows.update(h_instancia, spec.id, spec)
        except TzzrError as exc:
            if exc.status != 404:
                raise
            row = services.flows.create(h_instancia, spec)
    except TzzrError as exc:
        where = f" ({exc.field})" if exc.field else ""
        raise fail(f"{file}{where}: {exc.message}") from exc
    out.print(f"{row.id}\tversion {row.version}\tinstance {instance}")


@flows_app.command("delete")
def flows_delete(
    flow_id: Annotated[str, typer.Argument(metavar="FLOW")], instance: InstanceName = "deck"
) -> None:
    """Delete a flow of an instance (its versions stay in the history)."""
    services = build_services()
    try:
        services.flows.delete(_instance(services, instance), flow_id)
    except TzzrError as exc:
        raise fail(exc.message) from exc


@flows_app.command("install-defaults")
def flows_defaults(
    instance: Annotated[
        str | None,
        typer.Option(
            "--instance", "-i", metavar="NAME", help="One instance (default: every instance)."
        ),
    ] = None,
) -> None:
    """Copy the shipped flows into instances that never had them (an operator's task; a
    new instance gets them when it is created). A flow an admin changed or deleted stays."""
    try:
        installed = build_services().install_default_flows(instance)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    for name, ids in installed.items():
        out.print(f"{name}: " + (", ".join(ids) if ids else "nothing to install"))


def register(app: App) -> None:
    app.add_typer(flows_app, name="flows")
