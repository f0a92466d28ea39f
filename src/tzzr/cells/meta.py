"""KnowledgeCell: a processing cell's metadata, as the TAMV blueprint names it."""

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class KnowledgeCell(BaseModel):
    """Required: id, type, version (semver), apiEndpoint, microserviceUrl (empty for a
    cell that runs in-process)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    type: str = Field(min_length=1)
    version: str
    api_endpoint: str = Field(alias="apiEndpoint")
    microservice_url: str = Field(alias="microserviceUrl")
    description: str = ""
    dependencies: list[str] = []
    input_format: dict[str, Any] = Field(default_factory=dict, alias="inputFormat")
    output_format: dict[str, Any] = Field(default_factory=dict, alias="outputFormat")
    ia_specialization_prompt: str = Field(default="", alias="iaSpecializationPrompt")
    test_cases: list[dict[str, Any]] = Field(default_factory=list, alias="testCases")
    visualization_sample: dict[str, Any] = Field(default_factory=dict, alias="visualizationSample")
    author: str = ""
    created: datetime | None = None
    updated: datetime | None = None

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.fullmatch(value):
            raise ValueError(f"version {value!r} is not semantic versioning (MAJOR.MINOR.PATCH)")
        return value

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
