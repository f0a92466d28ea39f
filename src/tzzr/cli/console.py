"""What every CLI module shares: the consoles, one-line failures, and the services.

Only Typer loads with the CLI: the settings, the services and everything below them are
imported by the commands that use them, and Rich when something is printed through it, so
`tzzr --help` and `tzzr verify` start without SQLAlchemy, FastAPI, Pydantic or
pydantic-settings (tests/cli/test_startup.py)."""

from functools import cached_property
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from tzzr.services import Services

# tzzr.services.DEFAULT_INSTANCE, as a default in command signatures without importing it
# (tests/cli/test_console.py holds the two equal).
DEFAULT_INSTANCE = "deck"


class LazyConsole:
    """A Rich console made on first use (importing rich.console is a sixth of `--help`)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr

    @cached_property
    def console(self) -> "Console":
        from rich.console import Console

        return Console(stderr=self._stderr)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal


out = LazyConsole()
err = LazyConsole(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one line to stderr; raise the returned Exit to stop with `code`."""
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    return typer.Exit(code)


def build_services() -> "Services":
    """The server's services, from the same settings (TZZR_HOME, ...)."""
    from tzzr.config import Settings
    from tzzr.services import Services

    return Services.build(Settings())
