from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError, field_validator

from tzzr.errors import Conflict, InvalidInput
from tzzr.validation import (
    base64_field,
    field_of,
    first_error,
    invalid_input,
    one_of,
    request_invalid,
    schema_error,
    schema_field,
)


class Item(BaseModel):
    name: str
    size: int = 0

    @field_validator("name")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(value) > 3:
            raise ValueError("name is at most 3 characters")
        return value


class Box(BaseModel):
    files: list[Item]


def error_of(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Box.model_validate(data)
    return caught.value


def test_field_of() -> None:
    assert field_of(("files", 0, "name")) == "files[0].name"
    assert field_of((0,)) == "[0]"
    assert field_of(()) == ""


def test_first_error_drops_pydantics_value_error_prefix() -> None:
    first = first_error(error_of({"files": [{"name": "toolong"}]}))
    assert first.message == "name is at most 3 characters"
    assert first.field == "files[0].name" and first.loc == ("files", 0, "name")
    assert isinstance(first.cause, ValueError) and first.type == "value_error"


def test_invalid_input_names_the_field() -> None:
    error = invalid_input(error_of({"files": [{"name": "a", "size": "x"}]}))
    assert isinstance(error, InvalidInput) and error.field == "files[0].size"
    assert invalid_input(error_of([]), default="body").field == "body"


def test_invalid_input_under_a_prefix() -> None:
    assert invalid_input(error_of({"files": [{}]}), under="params").field == "params.files[0].name"
    assert invalid_input(error_of(3), under="params").field == "params"


class FakeRequestError:
    def __init__(self, loc: tuple[Any, ...]) -> None:
        self.loc = loc

    def errors(self) -> list[dict[str, Any]]:
        return [{"loc": self.loc, "msg": "Value error, bad", "type": "value_error"}]


@pytest.mark.parametrize(
    ("loc", "field"),
    [(("query", "limit"), "limit"), (("path", "run_id"), "run_id"), (("body", "a", 1), "a[1]")],
)
def test_request_invalid_drops_the_request_part(loc: tuple[Any, ...], field: str) -> None:
    error = request_invalid(FakeRequestError(loc))
    assert error.field == field and error.message == "bad"


SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "place": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "required": ["title"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("instance", "field"),
    [
        ({}, "fields.title"),
        ({"title": 1}, "fields.title"),
        ({"title": "t", "tags": ["a", 2]}, "fields.tags[1]"),
        ({"title": "t", "zeta": 1, "alpha": 2}, "fields.alpha"),
        ({"title": "t", "place": {}}, "fields.place.city"),
        ({"title": "t", "place": {"city": "c", "x": 1}}, "fields.place.x"),
        ("text", "fields"),
    ],
)
def test_schema_error_names_the_field(instance: Any, field: str) -> None:
    found = schema_error(Draft202012Validator(SCHEMA), instance, "fields")
    assert found is not None and found[1] == field


def test_schema_error_is_none_for_a_valid_instance() -> None:
    assert schema_error(Draft202012Validator(SCHEMA), {"title": "t"}, "fields") is None


def test_schema_error_takes_the_first_by_path() -> None:
    found = schema_error(Draft202012Validator(SCHEMA), {"title": 1, "tags": [1], "place": {}}, "m")
    assert found is not None and found[1] == "m.place.city"


def test_schema_field_with_pattern_properties() -> None:
    schema = {"type": "object", "patternProperties": {"^x-": {}}, "additionalProperties": False}
    error = next(Draft202012Validator(schema).iter_errors({"x-ok": 1, "b": 2, "a": 3}))
    assert schema_field(error) == "a"


def test_schema_error_for_an_array_root() -> None:
    found = schema_error(Draft202012Validator({"items": {"type": "string"}}), [1], "list")
    assert found is not None and found[1] == "list[0]"


def test_one_of_passes_a_known_value_through() -> None:
    assert one_of("queued", ("queued", "done"), "status") == "queued"


def test_one_of_names_the_field_and_lists_the_values_in_order() -> None:
    with pytest.raises(InvalidInput) as caught:
        one_of("later", ("queued", "done"), "status")
    assert caught.value.message == "status must be one of queued, done"
    assert caught.value.field == "status"


def test_base64_field_decodes_strict_base64() -> None:
    assert base64_field("aGk=", "input.content") == b"hi"


@pytest.mark.parametrize("content", ["aGk", "a!Gk=", "aGk=\n"])
def test_base64_field_names_the_field(content: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        base64_field(content, "files[1].content")
    assert caught.value.field == "files[1].content"
    assert caught.value.message.startswith("files[1].content is not valid base64 (")


def test_base64_field_raises_the_error_asked_for() -> None:
    with pytest.raises(Conflict) as caught:
        base64_field("*", "payload.content", Conflict)
    assert caught.value.field == "payload.content"
