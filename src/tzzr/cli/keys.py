"""`tzzr keys …`: API keys."""

from typing import Annotated

import typer

from tzzr.cli.console import build_services, err, fail, out
from tzzr.cli.params import App
from tzzr.errors import TzzrError
from tzzr.times import rfc3339, rfc3339_or_none

keys_app = App(help="API keys.")


@keys_app.command("create")
def keys_create(
    instance: Annotated[
        str | None, typer.Option(metavar="NAME", help="The instance the key belongs to.")
    ] = None,
    role: Annotated[str, typer.Option(metavar="ROLE", help="ingest, read or admin.")] = "ingest",
    operator: Annotated[
        bool,
        typer.Option(
            "--operator",
            help="An operator key: the server's own tasks (no instance's data). "
            "Only this command makes one.",
        ),
    ] = False,
) -> None:
    """Create a key; prints only the key (shown once) on stdout."""
    if operator == (instance is not None):
        raise fail("give --instance NAME (with --role), or --operator", 2)
    try:
        keys = build_services().keys
        if operator:
            key, key_id = keys.create_operator()
        else:
            assert instance is not None
            key, key_id = keys.create(instance, role)  # type: ignore[arg-type]
    except TzzrError as exc:
        raise fail(exc.message) from exc
    owner = "the server (operator)" if operator else f"instance {instance} ({role})"
    err.print(f"key id {key_id} for {owner}; the key is shown once:")
    print(key)


@keys_app.command("list")
def keys_list(instance: Annotated[str | None, typer.Option(metavar="NAME")] = None) -> None:
    """List keys (ids only: keys themselves are never stored)."""
    from rich.table import Table

    table = Table("key id", "instance", "role", "created", "revoked")
    for info in build_services().keys.list(instance):
        table.add_row(
            info.key_id,
            info.instance or "-",
            info.role,
            rfc3339(info.created_at),
            rfc3339_or_none(info.revoked_at) or "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once."""
    try:
        build_services().keys.revoke(key_id)
    except TzzrError as exc:
        raise fail(exc.message) from exc
    err.print(f"revoked {key_id}")


def register(app: App) -> None:
    app.add_typer(keys_app, name="keys")
