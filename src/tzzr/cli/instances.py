"""`tzzr instances …`: create and list instances, set their enrichment schema."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tzzr.cli.console import build_services, fail, out
from tzzr.cli.params import App
from tzzr.errors import TzzrError
from tzzr.times import rfc3339

instances_app = App(help="Instances (deck, corp, …).")


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise fail(f"{path} is not valid JSON: {exc}") from exc


@instances_app.command("add")
def instances_add(
    name: str,
    fields_schema: Annotated[
        Path | None,
        typer.Option(
            help="JSON Schema of extra required metadata fields (e.g. company fields for corp).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Create an instance (with its own copy of the shipped flows)."""
    schema = _json_file(fields_schema) if fields_schema is not None else None
    try:
        info = build_services().add_instance(name, schema)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    out.print(f"{info.name}\t{info.h_instancia}")


@instances_app.command("enrichment-schema")
def instances_enrichment_schema(
    name: str,
    schema: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, help="A JSON Schema file; none: the default."),
    ] = None,
) -> None:
    """Set the JSON Schema of the fields people add in MASON's enrichment window."""
    document = _json_file(schema) if schema is not None else None
    try:
        build_services().mason.set_schema(name, document)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    out.print(f"{name}: enrichment schema {'set' if document else 'reset to the default'}")


@instances_app.command("list")
def instances_list() -> None:
    """List instances."""
    from rich.table import Table

    table = Table("name", "h_instancia", "blob prefix", "fields schema", "created")
    for info in build_services().instances.list():
        table.add_row(
            info.name,
            info.h_instancia,
            info.blob_prefix,
            "yes" if info.fields_schema else "no",
            rfc3339(info.created_at),
        )
    out.print(table)


def register(app: App) -> None:
    app.add_typer(instances_app, name="instances")
