"""The classes TZZR's commands are built from (through `App`): Typer 0.29, adapted twice.

Help: Typer 0.29 labels every parameter from its annotation (`_TyperParameter.display_type`
in `typer/core.py`: `<list[Path]>`, `<str>`), its Rich help prints that label for flags too
(`rich_utils._print_options_panel` calls `display_type_rich` on every parameter, hence
`--help <bool>`), and its usage line shows a required argument as `{paths}...`. No setting
changes that, so our parameters label themselves as Click always has: the type's name in
capitals (TEXT, INTEGER, PATH, FILE), choices as `[a|b]`, `...` after an argument that
takes several values, nothing for a flag; an argument's own metavar replaces its type.
Help is Click's plain layout (`rich_markup_mode=None`): Typer's Rich layout imports
`typer.rich_utils`, whose Markdown, traceback and syntax modules cost more than the rest
of `tzzr --help` together (bench/startup.py).

Values: Typer 0.29 coerces every value through a Pydantic `TypeAdapter` it builds on first
use, so any command would import Pydantic first. A plain `str`, `Path` or flag (all the
verifier has) is read here instead, by the same steps Typer's adapters take (a string as
it is; `coerce_cli_path` with the existence, file and directory checks; a bool as it is);
every other type or value stays Typer's.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import typer
from typer._click import Context
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path, lenient_issubclass
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption, _TyperParameter
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


@dataclass(frozen=True)
class PlainValue(RuntimeParam):
    """A command-line string as a `str` or a checked `Path`, a flag's bool, as Typer's
    adapters read them."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        if self.annotation is bool and isinstance(value, bool):
            return value
        if self.annotation is bool or not isinstance(value, str):  # "yes", bytes: Typer's way
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)
        if self.annotation is str:
            return value
        path = self.annotation(value)
        return coerce_cli_path(
            path, self.parameter_info, path_type=self.annotation, param=param, ctx=ctx
        )


def _plain(param: _TyperParameter) -> RuntimeParam | None:
    desc = param.type_descriptor
    info = desc.parameter_info
    if info.parser is not None or desc.is_choice or desc.is_file or param.nargs != 1:
        return None
    path = lenient_issubclass(desc.annotation, Path) and info.path_type is None
    if desc.annotation not in (str, bool) and not path:
        return None
    return PlainValue(parameter_info=info, annotation=desc.annotation)


class Argument(TyperArgument):
    def get_runtime_param(self) -> RuntimeParam:
        if self._runtime_param is None:
            self._runtime_param = _plain(self)
        return super().get_runtime_param()

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.metavar is not None:
            return None  # shown in the name column already, as Click shows it
        return type_name(self) + ("..." if self.nargs != 1 else "")

    def _usage_display_name(self) -> str:
        name = (self.metavar or self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


class Option(TyperOption):
    def get_runtime_param(self) -> RuntimeParam:
        if self._runtime_param is None and not self.multiple:
            self._runtime_param = _plain(self)
        return super().get_runtime_param()

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        return type_name(self) + ("..." if self.nargs != 1 else "")


def _adapt(params: list[Any]) -> list[Any]:
    # Typer builds the parameters (and the --help option) itself, with no hook for their
    # class; the subclasses add no state, so handing them their methods is safe.
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = Argument
        elif type(param) is TyperOption:
            param.__class__ = Option
    return params


class Command(TyperCommand):
    def get_params(self, ctx: Context) -> list[Any]:
        return _adapt(super().get_params(ctx))


class Group(TyperGroup):
    def get_params(self, ctx: Context) -> list[Any]:
        return _adapt(super().get_params(ctx))


class App(typer.Typer):
    """A `typer.Typer` whose groups and commands are built from the classes above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("context_settings", {"max_content_width": 100})  # Click's: 80
        super().__init__(**kwargs)

    def command(
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", Command)
        return super().command(*args, **kwargs)
