"""The decision language: a small, safe expression language (parsed here, never
`eval`). Examples:

    ocr.text matches "(?i)total" and ocr.text matches "[0-9]+[.,][0-9]{2}"
    asr.language == "es" or len(asr.text) > 20
    not (entry.metadata.urgent == true)

Values: strings ("…" or '…'), numbers, true, false, null, paths (`step.field.sub`,
`step.items[0]`), parentheses, and the functions len(x), lower(x), exists(path).
Operators: == != < <= > >= matches (a regular expression search, on RE2: linear time,
see flows/pattern.py) contains in, and, or, not. A path that does not exist is null
(`exists(path)` tells them apart)."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tzzr.errors import InvalidInput
from tzzr.flows.pattern import PatternError, compile_pattern

MAX_SOURCE = 2000
MAX_PATTERN = 500
TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.)
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)
WORD_OPS = {"and", "or", "not", "matches", "contains", "in"}
COMPARE = {"==", "!=", "<", "<=", ">", ">=", "matches", "contains", "in"}
FUNCTIONS = {"len", "lower", "exists"}


class ExpressionError(InvalidInput):
    pass


@dataclass(frozen=True)
class Node:
    kind: str  # literal, path, not, and, or, compare, call
    value: Any = None
    children: tuple["Node", ...] = ()


def _tokens(source: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = TOKEN.match(source, position)
        if match is None or match.end() == position:
            rest = source[position:]
            position += len(rest) - len(rest.lstrip())
            near = source[position : position + 20]
            raise ExpressionError(
                f"cannot read the decision at character {position + 1}: {near!r}",
                field="decision",
            )
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "name" and text in WORD_OPS:
            kind = "op"
        tokens.append((kind, text, match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str) -> None:
        if len(source) > MAX_SOURCE:
            raise ExpressionError(
                f"a decision has at most {MAX_SOURCE} characters", field="decision"
            )
        self.source = source
        self.tokens = _tokens(source)
        self.at = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, text: str | None = None) -> tuple[str, str, int]:
        token = self._peek()
        if token is None or (text is not None and token[1] != text):
            where = f"at character {token[2] + 1}" if token else "at the end"
            raise ExpressionError(
                f"expected {text or 'a value'} {where} of {self.source!r}", field="decision"
            )
        self.at += 1
        return token

    def parse(self) -> Node:
        node = self._or()
        token = self._peek()
        if token is not None:
            raise ExpressionError(
                f"unexpected {token[1]!r} at character {token[2] + 1} of {self.source!r}",
                field="decision",
            )
        return node

    def _or(self) -> Node:
        return self._chain("or", self._and)

    def _and(self) -> Node:
        return self._chain("and", self._not)

    def _chain(self, op: str, operand: Callable[[], Node]) -> Node:
        """`operand (op operand)*`, grouped from the left."""
        node = operand()
        while (token := self._peek()) and token[1] == op:
            self._take()
            node = Node(op, children=(node, operand()))
        return node

    def _not(self) -> Node:
        token = self._peek()
        if token and token[1] == "not":
            self._take()
            return Node("not", children=(self._not(),))
        return self._compare()

    def _compare(self) -> Node:
        left = self._value()
        token = self._peek()
        if token and token[1] in COMPARE:
            self._take()
            right = self._value()
            if token[1] == "matches":
                if right.kind != "literal" or not isinstance(right.value, str):
                    raise ExpressionError("matches takes a string pattern", field="decision")
                if len(right.value) > MAX_PATTERN:
                    raise ExpressionError(
                        f"a pattern has at most {MAX_PATTERN} characters", field="decision"
                    )
                try:
                    right = Node("literal", compile_pattern(right.value))
                except PatternError as exc:
                    raise ExpressionError(exc.message, field="decision") from exc
            return Node("compare", token[1], (left, right))
        return left

    def _value(self) -> Node:
        kind, text, position = self._take()
        if kind == "number":
            return Node("literal", float(text) if "." in text else int(text))
        if kind == "string":
            body = text[1:-1]
            return Node("literal", re.sub(r"\\(.)", r"\1", body))
        if text == "(":
            node = self._or()
            self._take(")")
            return node
        if kind != "name":
            raise ExpressionError(
                f"unexpected {text!r} at character {position + 1} of {self.source!r}",
                field="decision",
            )
        if text in ("true", "false", "null"):
            return Node("literal", {"true": True, "false": False, "null": None}[text])
        token = self._peek()
        if token and token[1] == "(":
            if text not in FUNCTIONS:
                raise ExpressionError(
                    f"unknown function {text}(); functions: {', '.join(sorted(FUNCTIONS))}",
                    field="decision",
                )
            self._take("(")
            argument = self._or()
            self._take(")")
            return Node("call", text, (argument,))
        path: list[str | int] = [text]
        while (token := self._peek()) and token[1] in (".", "["):
            if self._take()[1] == ".":
                path.append(self._take()[1])
            else:
                index = self._take()
                if index[0] != "number" or "." in index[1]:
                    raise ExpressionError("an index is a whole number: items[0]", field="decision")
                path.append(int(index[1]))
                self._take("]")
        return Node("path", tuple(path))


@functools.lru_cache(maxsize=512)
def parse(source: str) -> Node:
    """The expression's tree (immutable, so each decision is parsed once per process)."""
    return _Parser(source).parse()


_MISSING = object()


def _lookup(scope: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    value: Any = scope
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                return _MISSING
            value = value[part]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def evaluate(node: Node, scope: dict[str, Any]) -> Any:
    """The value of `node` in `scope`. Comparing values of kinds that cannot be ordered
    is false, never an error: a decision always decides."""
    if node.kind == "literal":
        return node.value
    if node.kind == "path":
        found = _lookup(scope, node.value)
        return None if found is _MISSING else found
    if node.kind == "not":
        return not truthy(evaluate(node.children[0], scope))
    if node.kind == "and":
        return truthy(evaluate(node.children[0], scope)) and truthy(
            evaluate(node.children[1], scope)
        )
    if node.kind == "or":
        return truthy(evaluate(node.children[0], scope)) or truthy(
            evaluate(node.children[1], scope)
        )
    if node.kind == "call":
        argument = node.children[0]
        if node.value == "exists":
            return argument.kind == "path" and _lookup(scope, argument.value) is not _MISSING
        value = evaluate(argument, scope)
        if node.value == "len":
            return len(value) if isinstance(value, str | list | dict) else 0
        return value.lower() if isinstance(value, str) else value
    left, right = (evaluate(child, scope) for child in node.children)
    op = node.value
    try:
        if op == "==":
            return bool(left == right)
        if op == "!=":
            return bool(left != right)
        if op == "matches":
            return isinstance(left, str) and right.search(left) is not None
        if op == "contains":
            return isinstance(left, str | list | dict) and right in left
        if op == "in":
            return isinstance(right, str | list | dict) and left in right
        if left is None or right is None or isinstance(left, bool) or isinstance(right, bool):
            return False
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", [], {})
