"""Flow specs: YAML and JSON, validation that names the field, matching, templating."""

import pytest

from tzzr.errors import InvalidInput, UnsupportedMediaType
from tzzr.flows.spec import load, render, validate

YAML = b"""
id: invoices
priority: 5
trigger:
  on: ingest
  match:
    instance: [corp]
    mediaType: ["image/*", application/pdf]
    metadata: {kind: invoice}
steps:
  - id: ocr
    cell: ocr-core
    lang: ${entry.metadata.lang}
  - id: echo
    cell: test-echo
    params:
      text: ${ocr.text}
      label: "from ${entry.metadata.kind}: ${ocr.words[0].text}"
decision: ocr.text matches "(?i)total"
"""


def test_a_yaml_flow_loads_and_matches() -> None:
    spec = load(YAML, "application/yaml")
    assert [s.id for s in spec.steps] == ["ocr", "echo"]
    assert spec.matches("corp", ["image/jpeg"], {"kind": "invoice"})
    assert not spec.matches("deck", ["image/jpeg"], {"kind": "invoice"})
    assert not spec.matches("corp", ["audio/ogg"], {"kind": "invoice"})
    assert not spec.matches("corp", ["application/pdf"], {"kind": "receipt"})
    assert load(spec.model_dump_json(by_alias=True).encode(), "application/json") == spec


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"id": "x", "steps": [{"id": "a", "cell": "c"}, {"id": "a", "cell": "c"}]}, "body"),
        ({"id": "x", "steps": [{"id": "a"}]}, "steps[0].cell"),
        ({"id": "x", "decision": "ocr.text matches"}, "decision"),
        ({"id": "x", "trigger": {"on": "cron"}}, "trigger.on"),
        ({"id": "x", "extra": 1}, "extra"),
    ],
)
def test_invalid_specs_name_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(data)
    assert caught.value.field == field, caught.value.message


def test_bodies_that_are_not_yaml_or_json() -> None:
    with pytest.raises(InvalidInput, match="not valid application/yaml"):
        load(b"id: [unclosed", "application/yaml")
    with pytest.raises(UnsupportedMediaType):
        load(b"id: x", "text/plain")


def test_templates_take_values_from_earlier_steps() -> None:
    scope = {
        "entry": {"metadata": {"kind": "invoice"}},
        "ocr": {"text": "Total 3", "words": [{"text": "Total"}], "n": 3},
    }
    params = {
        "text": "${ocr.text}",
        "n": "${ocr.n}",
        "label": "from ${entry.metadata.kind}: ${ocr.words[0].text}",
        "missing": "${nope.x}",
        "nested": ["${ocr.n}"],
    }
    assert render(params, scope) == {
        "text": "Total 3",
        "n": 3,
        "label": "from invoice: Total",
        "missing": None,
        "nested": [3],
    }
