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


# Nine levels of nine aliases: 9**9 (387 million) strings once anything walks the result.
LAUGHS = b"""id: lol
steps:
- id: a
  cell: test-echo
  params:
    a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.timeout(10)
def test_a_billion_laughs_flow_is_refused_before_anything_expands() -> None:
    assert len(LAUGHS) < 512  # the issue's was 373 bytes
    with pytest.raises(InvalidInput, match="aliases") as caught:
        load(LAUGHS, "application/yaml")
    assert caught.value.field == "body" and "line 6" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        b"id: x\ndescription: &d hello\n",  # an anchor alone
        b"id: x\ntrigger: {match: {metadata: {a: 1}}}\nstep: &s {id: a}\nsteps: [*s]\n",
        b"base: &b {priority: 1}\nid: x\n<<: *b\n",  # a merge key is an alias too
    ],
)
def test_anchors_and_aliases_are_refused(text: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"anchors \(&name\) and aliases \(\*name\)"):
        load(text, "application/yaml")


@pytest.mark.parametrize("kind", ["application/yaml", "application/json"])
@pytest.mark.parametrize("depth", [65, 100_000])
def test_a_flow_nested_too_deep_is_refused(kind: str, depth: int) -> None:
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    body = b'{"id": "x", "steps": [{"id": "a", "cell": "c", "params": ' + deep + b"}]}"
    with pytest.raises(InvalidInput, match="64 levels") as caught:
        load(body, kind)  # JSON is YAML too
    expected = "steps[0].params" if kind == "application/json" else "body"
    assert caught.value.field == expected


def test_a_flow_at_the_depth_limit_loads() -> None:
    params = b'{"a":' * 60 + b"1" + b"}" * 60  # 64 with the body, steps and step
    body = b'{"id": "x", "steps": [{"id": "a", "cell": "c", "params": ' + params + b"}]}"
    assert load(body, "application/json").steps[0].params["a"]["a"]
    assert load(body, "application/yaml").steps[0].params["a"]["a"]
