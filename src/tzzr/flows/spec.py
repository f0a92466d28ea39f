"""Flow specs as data (YAML or JSON): a trigger with match rules, cell steps whose
parameters are templated from earlier outputs, and a decision in the safe expression
language. OK goes to FELDMAN (consolidation); an incident goes to MASON (enrichment)."""

import fnmatch
import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tzzr import jsonlimits
from tzzr.canonical import check_ijson
from tzzr.errors import InvalidInput, UnsupportedMediaType
from tzzr.flows import expr
from tzzr.validation import first_error, invalid_input

MAX_STEPS = 20


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true / false. (YAML 1.1 reads `on:` as True, and a
    trigger's `on:` key would vanish.) No anchors or aliases: nine lines of nested
    aliases expand to a billion items once anything walks the result, so a flow that
    uses them is refused while it is composed, before anything is built. At most
    MAX_DEPTH levels, counted as they are composed (the composer recurses per level)."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors (&name) and aliases (*name) are not accepted in a flow; "
                "write the value out where it is used",
                event.start_mark,
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > jsonlimits.MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"the flow is nested more than {jsonlimits.MAX_DEPTH} levels deep",
                    event.start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
TEMPLATE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-\[\]]*)\s*\}")


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    instance: list[str] = []
    media_type: list[str] = Field(default=[], alias="mediaType")
    metadata: dict[str, Any] = {}


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: Literal["ingest", "manual"] = "ingest"
    match: Match = Match()
    fallback: bool = False  # applies only when no other flow matches


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")
    cell: str = Field(min_length=1, max_length=100)
    version: str | None = None
    input: Literal["entry", "none"] | None = None
    lang: str | None = None
    params: dict[str, Any] = {}


class FlowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    description: str = ""
    priority: int = 0
    trigger: Trigger = Trigger()
    steps: list[Step] = Field(default=[], max_length=MAX_STEPS)
    decision: str = "true"

    @field_validator("decision")
    @classmethod
    def _decision(cls, value: str) -> str:
        expr.parse(value)  # ExpressionError says where
        return value

    @model_validator(mode="after")
    def _unique_steps(self) -> "FlowSpec":
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen or step.id == "entry":
                raise ValueError(f"step id {step.id!r} is used twice (or is 'entry')")
            seen.add(step.id)
        return self

    def matches(self, instance: str, media_types: list[str], metadata: dict[str, Any]) -> bool:
        rule = self.trigger.match
        if rule.instance and instance not in rule.instance:
            return False
        if rule.media_type and not any(
            fnmatch.fnmatch(media, pattern) for media in media_types for pattern in rule.media_type
        ):
            return False
        return all(metadata.get(key) == value for key, value in rule.metadata.items())


def load(raw: bytes, content_type: str | None) -> FlowSpec:
    """A spec from a JSON or YAML body; 422 naming the field for an invalid one."""
    kind = (content_type or "application/json").split(";")[0].strip().lower()
    try:
        if kind in ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"):
            data = yaml.load(raw, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader
        elif kind == "application/json":
            data = jsonlimits.loads(raw)
        else:
            raise UnsupportedMediaType(
                f"send a flow as application/json or application/yaml, not {kind}"
            )
    except (yaml.YAMLError, ValueError) as exc:
        raise InvalidInput(f"the flow is not valid {kind}: {exc}", field="body") from exc
    return validate(data)


def validate(data: Any) -> FlowSpec:
    jsonlimits.check_depth(data)  # before Pydantic, templating and JSON columns recurse
    check_ijson(data)  # YAML's !!binary, .nan, sets: what a JSON column cannot hold
    try:
        return FlowSpec.model_validate(data)
    except ValidationError as exc:
        cause = first_error(exc).cause
        if isinstance(cause, InvalidInput):
            raise InvalidInput(cause.message, field="decision") from exc
        raise invalid_input(exc) from exc


def render(value: Any, scope: dict[str, Any]) -> Any:
    """`${path}` in strings, from the entry and earlier steps' results: a string that is
    exactly one `${path}` takes the value as it is; otherwise the text is substituted."""
    if isinstance(value, dict):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = TEMPLATE.fullmatch(value.strip())
    if whole:
        return expr.evaluate(expr.parse(whole.group(1)), scope)

    def text(match: re.Match[str]) -> str:
        found = expr.evaluate(expr.parse(match.group(1)), scope)
        return "" if found is None else str(found)

    return TEMPLATE.sub(text, value)


def payload_type(media_type: str) -> str:
    if media_type.startswith("image/"):
        return "image"
    if media_type.startswith("audio/"):
        return "audio"
    if media_type == "application/pdf":
        return "pdf"
    if media_type.startswith("text/"):
        return "text"
    return "bytes"
