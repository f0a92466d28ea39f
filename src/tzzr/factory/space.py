"""The numeric parameters of a cell that THE FACTORY may tune, and their ranges.

A cell says what its params are in `inputFormat.params`, one descriptor a parameter:
`"int 0..200 (120)"` and `"number 0.5..2 (1)"` are ranges, `"3 | 4 | 6 | 11 (4)"` a
choice of numbers; anything else (`"bool (true)"`, free text) is not tuned. A request's
`space` gives ranges itself (`{"psm": [3, 6]}`, `{"sleepMs": {"low": 0, "high": 200}}`)
and overrides the cell's."""

import re
from typing import TYPE_CHECKING, Any

from tzzr.errors import InvalidInput

if TYPE_CHECKING:  # optuna (and numpy) load when a space is built, not with the server
    import optuna

_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^\s*(int|number)\s+({_NUMBER})\s*\.\.\s*({_NUMBER})\s*(?:\(.*\))?\s*$")
_CHOICE = re.compile(rf"^\s*({_NUMBER}(?:\s*\|\s*{_NUMBER})+)\s*(?:\(.*\))?\s*$")
Distributions = dict[str, "optuna.distributions.BaseDistribution"]


def _num(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def from_descriptors(params: Any) -> Distributions:
    """The ranges a cell's `inputFormat.params` declares."""
    import optuna

    found: Distributions = {}
    if not isinstance(params, dict):
        return found
    for name, descriptor in params.items():
        if not isinstance(descriptor, str):
            continue
        ranged = _RANGE.match(descriptor)
        if ranged:
            kind, low, high = ranged.groups()
            if float(low) < float(high):
                if kind == "int":
                    found[name] = optuna.distributions.IntDistribution(int(low), int(high))
                else:
                    found[name] = optuna.distributions.FloatDistribution(float(low), float(high))
            continue
        chosen = _CHOICE.match(descriptor)
        if chosen:
            values = tuple(_num(v) for v in re.split(r"\s*\|\s*", chosen.group(1).strip()))
            found[name] = optuna.distributions.CategoricalDistribution(values)
    return found


def from_request(space: dict[str, Any]) -> Distributions:
    """A request's `space`: a list of numbers (a choice) or {low, high} (a range, of
    integers when both are)."""
    import optuna

    found: Distributions = {}
    for name, spec in space.items():
        field = f"space.{name}"
        if isinstance(spec, list) and spec and all(_is_number(v) for v in spec):
            found[name] = optuna.distributions.CategoricalDistribution(tuple(spec))
        elif isinstance(spec, dict) and set(spec) == {"low", "high"}:
            low, high = spec["low"], spec["high"]
            if not (_is_number(low) and _is_number(high)) or low >= high:
                raise InvalidInput(
                    f"{field}: low and high must be numbers, low < high", field=field
                )
            if isinstance(low, int) and isinstance(high, int):
                found[name] = optuna.distributions.IntDistribution(low, high)
            else:
                found[name] = optuna.distributions.FloatDistribution(float(low), float(high))
        else:
            raise InvalidInput(
                f"{field}: give a list of numbers or {{'low': n, 'high': m}}", field=field
            )
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def describe(space: Distributions) -> dict[str, Any]:
    """The space as JSON (for the record and for a model's prompt)."""
    import optuna

    out: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            out[name] = {"choices": list(dist.choices)}
        elif isinstance(
            dist, optuna.distributions.IntDistribution | optuna.distributions.FloatDistribution
        ):
            out[name] = {"low": dist.low, "high": dist.high}
    return out


def contains(space: Distributions, params: dict[str, Any]) -> str | None:
    """What is wrong with a proposed parameter set, or None."""
    import optuna

    for name, dist in space.items():
        if name not in params:
            return f"{name} is missing"
        value = params[name]
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            if value not in dist.choices:
                return f"{name} must be one of {list(dist.choices)}"
        elif not _is_number(value) or not dist.low <= value <= dist.high:  # type: ignore[attr-defined]
            return f"{name} must be a number in {dist.low}..{dist.high}"  # type: ignore[attr-defined]
    return None
