import pytest

from tzzr.cells import CellContext, CellResult, KnowledgeCell, Payload, Registry
from tzzr.errors import ConfigError, NotFound


class EchoCell:
    """What a third-party plug-in looks like."""

    module = "ECHO"
    accepts = frozenset({"text"})
    meta = KnowledgeCell(
        id="echo", type="demo", version="0.1.0", api_endpoint="/x", microservice_url=""
    )

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        return CellResult({"text": payload.data.decode()}, engine="echo")


def test_built_in_cells_come_through_the_entry_point_group() -> None:
    registry = Registry.discover()
    assert "OCR_CORE" in registry.modules
    assert registry.get("ocr-core").module == "OCR_CORE"


def test_lookups_name_what_exists() -> None:
    registry = Registry([EchoCell()])
    assert registry.module("ECHO").run(CellContext("r"), Payload("text", b"hi")).result == {
        "text": "hi"
    }
    with pytest.raises(NotFound, match="known modules: ECHO"):
        registry.module("ASR_ENGINE")
    with pytest.raises(NotFound, match="known: echo"):
        registry.get("nope")


def test_objects_that_break_the_contract_are_refused() -> None:
    class NotACell:
        module = "X"

    with pytest.raises(ConfigError, match="does not implement"):
        Registry([NotACell()])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="two cells"):
        Registry([EchoCell(), EchoCell()])
