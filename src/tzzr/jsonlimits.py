"""One depth limit for the JSON (and YAML) that requests send. Parsers, canonicalization
(RFC 8785), JSON Schema validation and templating all recurse once per level, so a
100,000-deep `[[[[…]]]]` would end in a RecursionError (a 500) somewhere; instead it is
a 422 naming the field, before any of them runs. The check itself never recurses."""

import json
import re
from contextlib import suppress
from typing import Any

from pydantic import BaseModel, ValidationError

from tzzr.errors import InvalidInput
from tzzr.validation import first_error

MAX_DEPTH = 64
# The tokens that open, close or name a level; other strings are skipped whole.
_TOKEN = re.compile(rb'(?P<key>"(?:[^"\\]|\\.)*")(?=\s*:)|"(?:[^"\\]|\\.)*"|(?P<mark>[\[\]{},])')
_SCAN_TOKENS = 200_000  # finding where a document too deep to parse went too deep


def too_deep(field: str) -> InvalidInput:
    return InvalidInput(
        f"{field} is nested more than {MAX_DEPTH} levels deep (objects and arrays); "
        "send a flatter document",
        field=field,
    )


def _field(parts: list[str | int]) -> str:
    """`steps[0].params`; indexes after the last key are left out (`metadata.a`, not
    `metadata.a[0][0]`: the field is what the message names)."""
    while parts and isinstance(parts[-1], int):
        parts = parts[:-1]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _named(path: tuple[str | int, ...] | list[str | int]) -> bool:
    """Whether `path` is as long as a message names: two keys (with the indexes between
    them: `steps[0].params`), or four steps."""
    return len(path) >= 4 or sum(isinstance(part, str) for part in path) >= 2


def _start(path: list[str | int]) -> list[str | int]:
    for end in range(len(path) + 1):
        if _named(path[:end]):
            return path[:end]
    return path


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _children(item: Any) -> Any:
    kind = type(item)
    if kind is dict:
        return item.values()
    if kind is list or kind is tuple:
        return item
    if isinstance(item, BaseModel):
        return [getattr(item, name) for name in type(item).model_fields]
    if isinstance(item, dict):
        return item.values()
    if isinstance(item, list | tuple):
        return item
    return None


def check_depth(value: Any, field: str = "", depth: int = 0) -> None:
    """InvalidInput naming where `value` (found at `field`, `depth` levels down) nests
    more than MAX_DEPTH objects and arrays deep. A Pydantic model counts as one level.
    Walked a level at a time with scalars left out, so that a long flat list costs one
    type() per item; where it went too deep is looked for only once it has."""
    level, at = [value], depth + 1
    while level:
        below: list[Any] = []
        for item in level:
            children = _children(item)
            if children is None:
                continue
            if at > MAX_DEPTH:
                raise too_deep(_where(value, field, depth) or "body")
            below += [child for child in children if type(child) not in _SCALARS]
        level, at = below, at + 1


def _where(value: Any, field: str, depth: int) -> str:
    """The start of the path to a level past MAX_DEPTH (see _named)."""
    stack: list[tuple[Any, tuple[str | int, ...], int]] = [
        (value, (field,) if field else (), depth + 1)
    ]
    while stack:
        item, path, at = stack.pop()
        if _children(item) is None:
            continue
        if at > MAX_DEPTH:
            return _field(list(path))
        pairs: Any
        if isinstance(item, dict):
            pairs = item.items()
        elif isinstance(item, BaseModel):  # named as the JSON names them
            fields = type(item).model_fields
            pairs = [(info.alias or name, getattr(item, name)) for name, info in fields.items()]
        else:
            pairs = enumerate(item)
        for key, child in pairs:
            if type(child) not in _SCALARS:
                stack.append((child, path if _named(path) else (*path, key), at + 1))
    return ""


def deep_point(raw: bytes, field: str = "") -> str | None:
    """Where the JSON text `raw` (found at `field`) first nests more than MAX_DEPTH deep,
    named as check_depth names it, for a document too deep for the parser; None when
    that is not found within the first _SCAN_TOKENS tokens."""
    path: list[str | int] = [field] if field else []
    base = len(path)
    for count, match in enumerate(_TOKEN.finditer(raw)):
        if count > _SCAN_TOKENS:
            return None
        if match.lastgroup == "key":
            if len(path) > base:
                with suppress(ValueError):
                    path[-1] = json.loads(match.group())
            continue
        mark = match.group("mark")
        if mark in (b"[", b"{"):
            if len(path) - base >= MAX_DEPTH:
                return _field(_start(path)) or "body"
            path.append(0 if mark == b"[" else "")
        elif mark in (b"]", b"}"):
            if len(path) > base:
                path.pop()
        elif mark == b"," and len(path) > base and isinstance(path[-1], int):
            path[-1] += 1
    return None


def loads(raw: bytes | str, field: str = "body") -> Any:
    """`json.loads` with the depth limit: 422 naming where it nests too deep, or saying
    why the text is not JSON."""
    try:
        value = json.loads(raw)
    except RecursionError as exc:
        data = raw.encode() if isinstance(raw, str) else raw
        raise too_deep(deep_point(data, "" if field == "body" else field) or field) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        what = "the body" if field == "body" else field
        raise InvalidInput(f"{what} is not valid JSON: {exc}", field=field) from exc
    check_depth(value, "" if field == "body" else field)
    return value


def raise_if_too_deep(exc: ValidationError, raw: bytes, field: str = "") -> None:
    """The depth error, when Pydantic's JSON parser stopped at its own recursion limit
    (about 200 levels) with `exc`."""
    first = first_error(exc)
    if first.type == "json_invalid" and "recursion limit" in first.message:
        raise too_deep(deep_point(raw, field) or field or "body") from exc
