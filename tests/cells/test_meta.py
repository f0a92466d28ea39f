import pytest
from pydantic import ValidationError

from tzzr.cells import KnowledgeCell

BASE = {
    "id": "x-cell",
    "type": "demo",
    "version": "1.2.3",
    "apiEndpoint": "/api/cells/x-cell/run",
    "microserviceUrl": "",
}


def test_required_fields_and_aliases() -> None:
    cell = KnowledgeCell.model_validate({**BASE, "iaSpecializationPrompt": "be brief"})
    assert cell.as_json()["iaSpecializationPrompt"] == "be brief"
    for field in ("id", "type", "version", "apiEndpoint", "microserviceUrl"):
        with pytest.raises(ValidationError, match=field):
            KnowledgeCell.model_validate({k: v for k, v in BASE.items() if k != field})


@pytest.mark.parametrize("version", ["1.2", "01.2.3", "1.2.3.4", "v1.2.3", "latest"])
def test_versions_must_be_semver(version: str) -> None:
    with pytest.raises(ValidationError, match="semantic versioning"):
        KnowledgeCell.model_validate({**BASE, "version": version})


def test_prerelease_and_build_metadata_are_semver() -> None:
    assert (
        KnowledgeCell.model_validate({**BASE, "version": "2.0.0-rc.1+build.5"}).version
        == "2.0.0-rc.1+build.5"
    )


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="colour"):
        KnowledgeCell.model_validate({**BASE, "colour": "red"})
