"""The served OpenAPI document. Bodies are read by hand (size limit first, see
`deps.parse_body`), so FastAPI never sees their models: their schemas are declared in
`openapi_extra`, and the models they name are collected here and served as
`components/schemas`, where every `$ref` points."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"
SCHEMAS: dict[str, dict[str, Any]] = {}


def _register(name: str, schema: dict[str, Any]) -> None:
    known = SCHEMAS.setdefault(name, schema)
    if known != schema:
        # Two models with one name would silently share a schema in generated clients.
        raise RuntimeError(f"two body models are named {name!r}; rename one")


def schema_ref(model: type[BaseModel]) -> dict[str, Any]:
    """A `$ref` to the model's schema, with the model and every model it uses
    registered as components (pydantic would inline them under an unresolvable
    `#/$defs/...`)."""
    schema = model.model_json_schema(by_alias=True, ref_template=REF_TEMPLATE)
    for name, part in schema.pop("$defs", {}).items():
        _register(name, part)
    _register(model.__name__, schema)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}
_register("Problem", PROBLEM)


def _problem_refs(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("$ref") == REF_TEMPLATE.format(model="HTTPValidationError"):
            node["$ref"] = REF_TEMPLATE.format(model="Problem")
        for value in node.values():
            _problem_refs(value)
    elif isinstance(node, list):
        for value in node:
            _problem_refs(value)


def install(app: FastAPI) -> None:
    """Serve the collected body schemas, and describe 422 answers as what `problems`
    sends (`{"error": {...}}`), not FastAPI's `{"detail": [...]}`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            _problem_refs(document["paths"])
            for name in SCHEMAS.keys() & schemas.keys():
                if SCHEMAS[name] != schemas[name]:
                    raise RuntimeError(f"a body model and a FastAPI model are named {name!r}")
            schemas.update(SCHEMAS)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
