"""The `tzzr` command. Thin: every command builds the same services as the server.

One module per concern (`serve`, `ingest`, `ledger`, `flows`, ...), each registering its
commands on `app`. Importing this package loads Typer and Rich only: a command imports
the settings, the services and what lies below them when it runs (tests/cli/test_startup.py
holds it so), so `tzzr --help` and `tzzr verify` start fast.
"""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from tzzr.cli import (
    demo,
    flows,
    gc,
    grace,
    ingest,
    instances,
    keys,
    ledger,
    search,
    serve,
    vision,
)
from tzzr.cli.console import err
from tzzr.cli.params import App
from tzzr.errors import TzzrError

app = App(help="TZZR: capture, process, enrich and seal.", pretty_exceptions_enable=False)
for module in (serve, ingest, search, vision, gc, demo, ledger, instances, keys, flows, grace):
    module.register(app)


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Data directory (TZZR_HOME).", show_default=False),
    ] = None,
) -> None:
    if home is not None:
        os.environ["TZZR_HOME"] = str(home)


def main() -> None:
    # Everything TZZR writes (the database with the instances' seeds and remote cells'
    # tokens, signing keys, blobs) is for this user only.
    os.umask(0o077)
    try:
        app()
    except TzzrError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(2)


__all__ = ["app", "main"]
