"""The regular expressions of decisions (`matches`), on RE2: a search takes time linear
in the text, whatever the pattern, so no pattern can hold a worker for seconds over the
text a person captured (Python's engine backtracks: `[0-9]+[.,][0-9]{2}` over 60,000
digits took 18 s).

Patterns are written as for Python's `re`, and keep its Unicode meaning: `\\w`, `\\d`,
`\\s` (and `\\W`, `\\D`, `\\S` outside `[...]`) are rewritten to RE2's Unicode classes,
`\\Z` to `\\z`, `\\uXXXX` to `\\x{XXXX}`. What RE2 cannot do — backreferences,
lookaround, `(?x)`, repeats over 1000 — is refused when the flow is saved. Two
differences stay: `\\b` is an ASCII word boundary, and `$` matches only at the very end
(Python's also matches before a final newline)."""

from typing import Any

import re2  # type: ignore[import-untyped]

from tzzr.errors import InvalidInput

_WORD, _DIGIT = r"\p{L}\p{N}_", r"\p{Nd}"
_SPACE = r"\s\x0b\p{Z}\x85\x1c-\x1f"  # str.isspace(): RE2's \s lacks \v and Unicode spaces
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": _DIGIT,
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
_INSIDE = {"w": _WORD, "d": _DIGIT, "D": r"\P{Nd}", "s": _SPACE}
_HEX = frozenset("0123456789abcdefABCDEF")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is the caller's 422, not a line in our log


class PatternError(InvalidInput):
    pass


def translate(pattern: str) -> str:
    """`pattern` in RE2's syntax with Python's meaning of the class escapes."""
    out: list[str] = []
    i, in_class, class_start = 0, False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escape = pattern[i + 1]
            width = {"u": 4, "U": 8}.get(escape, 0)
            digits = pattern[i + 2 : i + 2 + width]
            if width and len(digits) == width and set(digits) <= _HEX:
                out.append(f"\\x{{{digits}}}")
                i += 2 + width
                continue
            table = _INSIDE if in_class else _OUTSIDE
            if escape in table:
                out.append(table[escape])
            elif in_class and escape in "WS":
                # inside [...] these would need a class intersection, which RE2 lacks
                raise PatternError(
                    f"\\{escape} inside [...] is not supported in {pattern!r}; "
                    f"write it outside the brackets, or use [^...]",
                    field="decision",
                )
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if pattern.startswith("[:", i):  # a POSIX class, [:alpha:], inside [...]
                end = pattern.find(":]", i + 2)
                if end != -1:
                    out.append(pattern[i : end + 2])
                    i = end + 2
                    continue
            if char == "]" and i > class_start:
                in_class = False
        elif char == "[":
            in_class = True
            # a ']' first in the class (after an optional '^') is a literal
            class_start = i + (2 if pattern.startswith("[^", i) else 1)
        out.append(char)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 pattern (its `.search(text)` is what `matches` calls); 422 naming
    `decision` for a pattern RE2 cannot run."""
    try:
        return re2.compile(translate(pattern), _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"bad regular expression {pattern!r}: {reason} (decisions use RE2, which runs in "
            "linear time: no backreferences, lookaround (?=...) (?<=...), (?x) or repeats "
            "over {1000})",
            field="decision",
        ) from exc
