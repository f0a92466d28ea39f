"""What every CLI module shares: the consoles, one-line failures, and the services."""

import typer
from rich.console import Console

from tzzr.config import Settings
from tzzr.services import Services

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr; raise the returned Exit to stop with `code`."""
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


def build_services() -> Services:
    return Services.build(Settings())
