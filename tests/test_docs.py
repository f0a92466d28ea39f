"""Every route, setting and CLI command is documented."""

from pathlib import Path
from typing import Any

import typer

from tzzr.app import create_app
from tzzr.cli import app as cli_app
from tzzr.config import Settings
from tzzr.services import Services

DOCS = Path(__file__).parent.parent / "docs"


def test_every_route_is_in_the_api_reference(services: Services) -> None:
    """Every operation of the OpenAPI document (app.routes holds included routers as
    wrappers in this FastAPI, so the schema is the complete list)."""
    text = (DOCS / "api.md").read_text()
    paths = create_app(services).openapi()["paths"]  # a duplicate operation id warns: fails
    operations = [f"{method.upper()} {path}" for path, item in paths.items() for method in item]
    assert len(operations) > 50 and "POST /ingest" in operations
    assert [op for op in operations if f"`{op}`" not in text] == []


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [
        f"TZZR_{name.upper()}"
        for name in Settings.model_fields
        if f"`TZZR_{name.upper()}`" not in text
    ]
    assert missing == []


def _commands(group: Any, prefix: str) -> list[str]:
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_cli_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    group = typer.main.get_command(cli_app)
    commands = _commands(group, "tzzr")
    assert "tzzr keys create" in commands
    assert [c for c in commands if f"`{c}" not in text] == []
