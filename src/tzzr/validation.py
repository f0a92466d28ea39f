"""Validation errors as a 422 naming the field: Pydantic's first error, and JSON Schema's.

Field paths are written one way everywhere: `files[0].name`, `metadata.tags[2]`.
"""

import base64
import binascii
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tzzr.errors import InvalidInput, TzzrError

if TYPE_CHECKING:  # jsonschema loads only where a schema is checked
    from jsonschema.exceptions import ValidationError as SchemaError
    from jsonschema.protocols import Validator

# The part of a request FastAPI puts first in a location; the field is what follows.
REQUEST_PARTS = ("query", "path", "body")


class HasErrors(Protocol):
    """Pydantic's ValidationError, and FastAPI's RequestValidationError."""

    def errors(self) -> Sequence[Any]: ...


def field_of(loc: Sequence[int | str]) -> str:
    """A location as a field path: ("files", 0, "name") -> "files[0].name"."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class FirstError:
    message: str  # without Pydantic's "Value error, " before a validator's own message
    loc: tuple[int | str, ...]
    type: str
    cause: BaseException | None  # what a validator raised, if it raised

    @property
    def field(self) -> str:
        return field_of(self.loc)


def first_error(exc: HasErrors) -> FirstError:
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    return FirstError(
        str(error.get("msg", "invalid input")).removeprefix("Value error, "),
        tuple(error.get("loc", ())),
        str(error.get("type", "")),
        cause if isinstance(cause, BaseException) else None,
    )


def invalid_input(exc: HasErrors, *, under: str = "", default: str = "body") -> InvalidInput:
    """The 422 for the first error: its field under `under`, or `default` (`under` when
    given) for an error about the whole value. Raise it `from exc`."""
    first = first_error(exc)
    field = field_of((under, *first.loc)) if under else first.field
    return InvalidInput(first.message, field=field or under or default)


def request_invalid(exc: HasErrors) -> InvalidInput:
    """FastAPI's first error about a query, path or body parameter, named without the part."""
    first = first_error(exc)
    loc = first.loc[1:] if first.loc and first.loc[0] in REQUEST_PARTS else first.loc
    return InvalidInput(first.message, field=field_of(loc))


def base64_field(content: str, field: str, error: type[TzzrError] = InvalidInput) -> bytes:
    """Strict base64 (the standard alphabet, no stray characters) of a field; anything
    else is `error` naming the field."""
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(f"{field} is not valid base64 ({exc})", field=field) from exc


def one_of(value: str, allowed: Collection[str], field: str) -> str:
    """`value` when it is one of `allowed`, else the 422 naming `field` and listing them."""
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}", field=field)
    return value


def _path_key(error: "SchemaError") -> tuple[tuple[int, int | str], ...]:
    # indices before names at each level, so that a list and a dict path compare
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path)


def schema_field(error: "SchemaError") -> str:
    """The field a JSON Schema error is about: its path, and for `required` the missing
    property, for `additionalProperties: false` the first unexpected one."""
    loc: list[int | str] = list(error.absolute_path)
    instance, value = error.instance, error.validator_value
    if error.validator == "required" and isinstance(value, list) and isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        loc += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        extras = sorted(
            (
                name
                for name in instance
                if name not in known and not any(re.search(p, name) for p in patterns)
            ),
            key=str,
        )
        loc += extras[:1]
    return field_of(loc)


def schema_error(validator: "Validator", instance: Any, under: str) -> tuple[str, str] | None:
    """(message, field) of the first error (by path) `validator` finds in `instance`,
    the field under `under`; None when it is valid."""
    first = min(validator.iter_errors(instance), key=_path_key, default=None)
    if first is None:
        return None
    path = schema_field(first)
    if not path:
        return first.message, under
    return first.message, f"{under}{path}" if path.startswith("[") else f"{under}.{path}"
