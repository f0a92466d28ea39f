"""`tzzr grace serve`: GRACE alone, for a GPU box."""

from typing import Annotated

import typer

from tzzr.cli.console import err, fail
from tzzr.cli.params import App

grace_app = App(help="GRACE alone (for a GPU box).")


@grace_app.command("serve")
def grace_serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8010,
    token: Annotated[
        str | None, typer.Option(envvar="TZZR_GRACE_TOKEN", help="Bearer token callers send.")
    ] = None,
) -> None:
    """Run only GRACE (cells behind contract 2.1): no database, base64 payloads."""
    import uvicorn

    from tzzr.cells.registry import Registry
    from tzzr.grace_app import create_grace_app

    if token is None and host not in ("127.0.0.1", "localhost", "::1"):
        raise fail("set TZZR_GRACE_TOKEN (or --token) before listening beyond this machine", 2)
    cells = Registry.discover()
    err.print(f"GRACE on http://{host}:{port}: modules {', '.join(cells.modules)}")
    uvicorn.run(create_grace_app(cells, token), host=host, port=port, log_level="info")


def register(app: App) -> None:
    app.add_typer(grace_app, name="grace")
