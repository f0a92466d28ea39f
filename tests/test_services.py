"""The composition (services.py): `Services.build` on a data directory that it makes
owner-only, `bootstrap` making the `deck` instance and one admin key once, new instances
with their own copy of the shipped flows."""

import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tzzr.errors import InvalidInput
from tzzr.flows.defaults import DEFAULT_FLOWS
from tzzr.keys import Principal
from tzzr.services import DEFAULT_INSTANCE, Services, secure_home

IN_ORDER = [flow["id"] for flow in DEFAULT_FLOWS]
SHIPPED = sorted(IN_ORDER)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services.build(make_settings(tmp_path / "home"))
    yield built
    built.close()


def flow_ids(services: Services, name: str) -> list[str]:
    return sorted(row.id for row in services.flows.live(services.instances.get(name).h_instancia))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_bootstrap_makes_deck_and_one_admin_key_once(services: Services, tmp_path: Path) -> None:
    key = services.bootstrap()
    assert key is not None and key.startswith("tzzr_")
    assert [i.name for i in services.instances.list()] == [DEFAULT_INSTANCE] == ["deck"]
    (made,) = services.keys.list()
    assert (made.instance, made.role, made.revoked_at) == ("deck", "admin", None)
    principal = services.keys.authenticate(f"Bearer {key}")
    assert isinstance(principal, Principal)
    assert principal.role == "admin" and principal.instance.name == "deck"
    assert flow_ids(services, "deck") == []  # the server asks for the shipped flows
    assert services.bootstrap() is None  # once: instances exist
    again = Services.build(make_settings(tmp_path / "home"))  # a restart
    try:
        assert again.bootstrap() is None
        assert len(again.keys.list()) == 1
    finally:
        again.close()


def test_bootstrap_with_the_shipped_flows(services: Services) -> None:
    assert services.bootstrap(default_flows=True) is not None
    assert flow_ids(services, "deck") == SHIPPED


def test_a_new_instance_gets_its_own_copy_of_the_shipped_flows(services: Services) -> None:
    corp = services.add_instance("corp")
    assert flow_ids(services, "corp") == SHIPPED
    rows = services.flows.live(corp.h_instancia)
    assert {row.h_instancia for row in rows} == {corp.h_instancia}
    assert {row.version for row in rows} == {1}
    bare = services.add_instance("bare", default_flows=False)
    assert flow_ids(services, "bare") == []
    assert services.install_default_flows("bare") == {"bare": IN_ORDER}
    services.flows.delete(bare.h_instancia, "voice-note")  # its admin's choice stays
    assert services.install_default_flows() == {"corp": [], "bare": []}
    assert flow_ids(services, "bare") == sorted(set(SHIPPED) - {"voice-note"})


def test_a_new_instance_checks_its_fields_schema(services: Services) -> None:
    schema = {"type": "object", "required": ["company_id"]}
    corp = services.add_instance("corp", schema)
    assert corp.fields_schema == schema and flow_ids(services, "corp") == SHIPPED
    with pytest.raises(InvalidInput, match="JSON Schema"):
        services.add_instance("bad", {"type": "nonsense"})
    assert [i.name for i in services.instances.list()] == ["corp"]  # nothing half made


def test_the_home_is_owner_only(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh" / "home"
    built = Services.build(make_settings(fresh))
    built.bootstrap()
    built.close()
    assert mode(fresh) == 0o700  # what it holds is out of others' reach through it


def test_an_older_home_is_closed_with_what_it_holds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)  # whatever the umask
    (home / "tzzr.db").write_bytes(b"")
    (home / "tzzr.db").chmod(0o644)
    (home / "keys").mkdir()
    (home / "keys").chmod(0o755)
    outside = tmp_path / "shared.txt"
    outside.write_text("not the home's")
    outside.chmod(0o644)
    (home / "link").symlink_to(outside)
    secure_home(home)
    assert mode(home) == 0o700
    assert mode(home / "tzzr.db") == 0o600 and mode(home / "keys") == 0o700
    assert mode(outside) == 0o644  # a link is not followed out of the home
    secure_home(home)  # already closed: nothing changes
    assert mode(home) == 0o700


def test_the_clock_is_injected(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 21, 14, tzinfo=UTC)
    built = Services.build(make_settings(tmp_path / "home"), clock=lambda: moment)
    try:
        assert built.clock() == moment
        assert built.ingest.router is built.alfred  # captures are routed by ALFRED
    finally:
        built.close()
