"""What every CLI module shares: the consoles, one-line failures, and the services.

Only Typer and Rich load with the CLI: the settings, the services and everything below
them are imported by the commands that use them, so `tzzr --help` and `tzzr verify` start
without SQLAlchemy, FastAPI or pydantic-settings."""

from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from tzzr.services import Services

# tzzr.services.DEFAULT_INSTANCE, as a default in command signatures without importing it
# (tests/cli/test_console.py holds the two equal).
DEFAULT_INSTANCE = "deck"

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr; raise the returned Exit to stop with `code`."""
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


def build_services() -> "Services":
    """The server's services, from the same settings (TZZR_HOME, ...)."""
    from tzzr.config import Settings
    from tzzr.services import Services

    return Services.build(Settings())
