"""Every cell an instance can run: the installed ones and the instance's own (remote
cells and specialized versions), by id and version, no instance seeing another's.
Registering and specializing over HTTP is in tests/cells/test_specialize.py."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tzzr.cells.base import CellContext, CellResult, Payload
from tzzr.cells.catalog import Catalog, Specialized, semver_key
from tzzr.cells.meta import KnowledgeCell
from tzzr.cells.registry import Registry
from tzzr.cells.remote import RemoteCell
from tzzr.errors import Conflict, InvalidInput, NotFound
from tzzr.outbound import OutboundPolicy
from tzzr.services import Services

REMOTE = "http://127.0.0.1:9"  # a host the operator lists: no name lookup


def meta(cell_id: str = "echo", version: str = "1.0.0", url: str = "") -> KnowledgeCell:
    return KnowledgeCell(
        id=cell_id, type="demo", version=version, api_endpoint="/x", microservice_url=url
    )


class Echo:
    """Answers its params; refuses a negative `n` when the run is submitted."""

    module = "ECHO"
    accepts = frozenset({"text"})
    meta = meta()
    timeout_s = 7.0

    def run(self, context: CellContext, payload: Payload) -> CellResult:
        return CellResult({"params": dict(context.params), "lang": context.lang}, engine="echo")

    def check_params(self, params: dict[str, Any]) -> None:
        if params.get("n", 0) < 0:
            raise InvalidInput("n is negative", field="params.n")

    def health(self) -> dict[str, Any]:
        return {"ok": True}


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Services]:
    services = Services.build(make_settings(tmp_path / "home"))
    yield services
    services.close()


def catalog_of(services: Services) -> Catalog:
    return Catalog(services.engine, Registry([Echo()]), OutboundPolicy.of(["127.0.0.1"]))


def test_versions_order_by_semver_not_by_text() -> None:
    assert semver_key("1.10.0") > semver_key("1.9.3")
    assert semver_key("2.0.0-rc.1+build.5") == (2, 0, 0)
    assert sorted(["1.10.0", "1.2.0", "1.9.0"], key=semver_key) == ["1.2.0", "1.9.0", "1.10.0"]


def test_a_specialized_version_runs_its_base_with_its_own_defaults() -> None:
    base = Echo()
    special = Specialized(base, meta(version="1.1.0"), {"n": 1, "style": "terse"})
    assert (special.module, special.accepts) == ("ECHO", frozenset({"text"}))
    assert special.meta.version == "1.1.0"
    ran = special.run(CellContext("r", "es", {"n": 2}), Payload("text", b""))
    assert ran.result == {"params": {"n": 2, "style": "terse"}, "lang": "es"}
    assert special.timeout_s == 7.0 and special.health() == {"ok": True}  # the base's
    special.check_params({})
    with pytest.raises(InvalidInput, match="negative"):
        special.check_params({"n": -1})
    with pytest.raises(InvalidInput):
        Specialized(base, meta(), {"n": -5}).check_params({})  # a bad default is refused
    with pytest.raises(AttributeError):
        _ = special.visualize  # the base has none


def test_a_specialized_version_of_a_cell_without_checks_checks_nothing() -> None:
    class Plain:
        module, accepts, meta = "P", frozenset({"text"}), meta("plain")

        def run(self, context: CellContext, payload: Payload) -> CellResult:
            return CellResult({}, engine="p")

    Specialized(Plain(), meta("plain", "1.1.0"), {"n": -1}).check_params({"x": 1})


def test_an_instance_registers_versions_and_gets_the_newest(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    catalog = catalog_of(built)
    assert catalog.get(h, "echo") is catalog.local.get("echo")
    for version in ("1.10.0", "1.2.0"):
        catalog.register(h, meta(version=version), "ECHO", ["text"], base="echo", defaults={})
    assert [c.meta.version for c in catalog.versions(h, "echo")] == ["1.0.0", "1.2.0", "1.10.0"]
    assert catalog.get(h, "echo").meta.version == "1.10.0"
    assert isinstance(catalog.get(h, "echo", "1.2.0"), Specialized)
    assert catalog.get(h, "echo", "1.0.0") is catalog.local.get("echo")
    with pytest.raises(NotFound, match=r"versions: 1\.0\.0, 1\.2\.0, 1\.10\.0"):
        catalog.get(h, "echo", "3.0.0")
    with pytest.raises(NotFound, match="no cell 'nope'; known: echo"):
        catalog.get(h, "nope")


def test_a_remote_cell_is_registered_with_its_checked_url(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    catalog = catalog_of(built)
    cell = catalog.register(
        h, meta("far", url=REMOTE + "/"), "FAR", ["text", "text", "image"], token="t0k"
    )
    assert isinstance(cell, RemoteCell)
    assert (cell.module, cell.accepts, cell.token) == ("FAR", frozenset({"text", "image"}), "t0k")
    assert cell.meta.microservice_url.rstrip("/") == REMOTE
    assert [c.meta.id for c in catalog.cells(h)] == ["echo", "far"]


def test_registrations_that_cannot_work_are_refused_naming_the_field(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    catalog = catalog_of(built)
    with pytest.raises(InvalidInput, match="give its microserviceUrl") as local:
        catalog.register(h, meta("mine"), "MINE", ["text"])
    assert local.value.field == "microserviceUrl"
    with pytest.raises(InvalidInput) as private:
        catalog.register(h, meta("far", url="http://10.1.2.3:9"), "FAR", ["text"])
    assert private.value.field == "microserviceUrl"
    with pytest.raises(InvalidInput, match="payload types") as none:
        catalog.register(h, meta("far", url=REMOTE), "FAR", [])
    assert none.value.field == "accepts"
    with pytest.raises(Conflict, match="an installed cell"):
        catalog.register(h, meta("echo", "9.0.0", url=REMOTE), "ECHO", ["text"])
    catalog.register(h, meta("far", url=REMOTE), "FAR", ["text"])
    with pytest.raises(Conflict, match=r"already has version 1\.0\.0; bump it"):
        catalog.register(h, meta("far", url=REMOTE), "FAR", ["text"])
    with pytest.raises(Conflict, match=r"already has version 1\.0\.0"):
        catalog.register(h, meta(), "ECHO", ["text"], base="echo")  # the installed one's


def test_no_instance_sees_anothers_cells(built: Services) -> None:
    deck = built.add_instance("deck", default_flows=False).h_instancia
    corp = built.add_instance("corp", default_flows=False).h_instancia
    catalog = catalog_of(built)
    catalog.register(deck, meta("far", url=REMOTE), "FAR", ["text"])
    catalog.register(deck, meta(version="2.0.0"), "ECHO", ["text"], base="echo")
    assert [c.meta.id for c in catalog.cells(corp)] == ["echo"]
    assert catalog.get(corp, "echo").meta.version == "1.0.0"
    with pytest.raises(NotFound):
        catalog.get(corp, "far")
    catalog.register(corp, meta("far", url=REMOTE), "FAR", ["text"])  # the same id, its own
    assert catalog.get(deck, "echo").meta.version == "2.0.0"


def test_a_cell_another_process_registered_is_found_at_once(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    here, there = catalog_of(built), catalog_of(built)
    assert [c.meta.id for c in here.cells(h)] == ["echo"]  # now cached here
    there.register(h, meta("far", url=REMOTE), "FAR", ["text"])
    there.register(h, meta(version="1.5.0"), "ECHO", ["text"], base="echo")
    assert here.get(h, "far").meta.id == "far"  # a miss reads again
    assert here.get(h, "echo", "1.5.0").meta.version == "1.5.0"
