"""`tzzr demo`: the whole pipeline on a fresh data directory, step by step."""

from pathlib import Path
from typing import Annotated

import typer

from tzzr.cli.console import err, fail, out
from tzzr.cli.params import App


def demo(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", metavar="DIR", help="An empty data directory (default: a new one in /tmp)."
        ),
    ] = None,
) -> None:
    """Capture the bundled samples, run their flows, enrich one, seal, receipt, verify."""
    import tempfile

    from tzzr.demo import run

    home = directory.resolve() if directory else Path(tempfile.mkdtemp(prefix="tzzr-demo-"))
    try:
        run(home, lambda line: out.print(line, highlight=False, soft_wrap=True))
    except FileExistsError as exc:
        raise fail(str(exc), 2) from exc
    err.print(f"Explore it: tzzr --home {home} serve")


def register(app: App) -> None:
    app.command()(demo)
