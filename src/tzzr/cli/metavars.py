"""Click-style metavars in `--help` (PATH, TEXT, INTEGER) where Typer 0.29 prints Python types.

Typer 0.29 labels every parameter from its annotation (`_TyperParameter.display_type` in
`typer/core.py`: `<list[Path]>`, `<str>`), its Rich help prints that label for flags too
(`rich_utils._print_options_panel` calls `display_type_rich` on every parameter, hence
`--help <bool>`), and its usage line shows a required argument as `{paths}...`. No setting
changes any of it, so every TZZR command and group is built from `Command` and `Group`
below (through `App`), whose parameters label themselves as Click always has: the type's
name in capitals (TEXT, INTEGER, PATH, FILE), choices as `[a|b]`, `...` after an argument
that takes several values, nothing for a flag; an argument's own metavar replaces its type.
Only the help text changes: parsing and validation stay Typer's.
"""

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import typer
from typer._click import Context
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

# What Click calls the types Typer reads from annotations (click.types: STRING.name, ...).
_NAMES: dict[Any, str] = {
    str: "TEXT",
    int: "INTEGER",
    float: "FLOAT",
    bool: "BOOLEAN",
    UUID: "UUID",
    datetime: "DATETIME",
}
_PATHS = {"file": "FILE", "dir": "DIRECTORY", "path": "PATH"}


def type_name(param: TyperArgument | TyperOption) -> str:
    """The Click metavar of one parameter's type: `TEXT`, `PATH`, `[a|b]`, `INTEGER RANGE`."""
    desc = param.type_descriptor
    if desc.is_choice:
        choices = desc.choices or ()
        return "[" + "|".join(c.value if isinstance(c, Enum) else str(c) for c in choices) + "]"
    if desc.is_path:
        return _PATHS[desc.path_type]
    annotation = desc.annotation
    if desc.is_list:
        (annotation,) = annotation.__args__
    if desc.is_tuple:
        return " ".join(_name(item) for item in annotation.__args__)
    if desc.is_datetime and desc.parameter_info.formats:
        return "[" + "|".join(desc.parameter_info.formats) + "]"
    return f"{_name(annotation)} RANGE" if desc.is_ranged else _name(annotation)


def _name(annotation: Any) -> str:
    return _NAMES.get(annotation) or getattr(annotation, "__name__", "TEXT").upper()


class Argument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.metavar is not None:
            return None  # shown in the name column already, as Click shows it
        return type_name(self) + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = (self.metavar or self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


class Option(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        return type_name(self) + ("..." if self.nargs != 1 else "")


def _click_style(params: list[Any]) -> list[Any]:
    # Typer builds the parameters (and the --help option) itself, with no hook for their
    # class; the subclasses add no state, so handing them their help methods is safe.
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = Argument
        elif type(param) is TyperOption:
            param.__class__ = Option
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Context) -> list[Any]:
        return _click_style(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Context) -> list[Any]:
        return _click_style(super().get_params(ctx))


class App(typer.Typer):
    """A `typer.Typer` whose groups and commands show Click-style metavars."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("no_args_is_help", True)
        super().__init__(**kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
