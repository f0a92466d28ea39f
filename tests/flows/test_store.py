"""Flow specs in the database, per instance and versioned: create, update, delete as a
tombstone, the templates each instance copies, and which flow a capture goes through.
Over HTTP in tests/api/test_flows.py; the migration that made flows per instance in
tests/test_tenancy.py."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cachetools import TTLCache

from tests.conftest import make_settings
from tzzr.errors import Conflict, NotFound
from tzzr.flows.defaults import DEFAULT_FLOWS
from tzzr.flows.spec import FlowSpec, validate
from tzzr.flows.store import CACHE_SECONDS, CACHE_SIZE, FlowStore, flow_json
from tzzr.services import Services


@pytest.fixture(params=["sqlite-local", "postgresql-local"])
def built(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    services = Services.build(make_settings(tmp_path / "home", request.param))
    yield services
    services.close()


def spec(flow_id: str, **fields: Any) -> FlowSpec:
    return validate({"id": flow_id, **fields})


def test_each_instance_gets_and_keeps_its_own_default_flows(services: Services) -> None:
    deck = services.add_instance("deck")
    corp = services.add_instance("corp")
    shipped = sorted(flow["id"] for flow in DEFAULT_FLOWS)
    assert sorted(row.id for row in services.flows.live(deck.h_instancia)) == shipped
    changed = services.flows.get(corp.h_instancia, "receipt-ocr")
    spec = {**changed.spec, "decision": "false"}
    services.flows.update(corp.h_instancia, "receipt-ocr", validate(spec))
    services.flows.delete(corp.h_instancia, "voice-note")
    assert services.flows.get(deck.h_instancia, "receipt-ocr").spec["decision"] != "false"
    assert services.flows.get(deck.h_instancia, "voice-note").version == 1
    # Installing the templates again never undoes an admin's change or deletion.
    assert services.flows.install_defaults(corp.h_instancia) == []
    assert services.flows.get(corp.h_instancia, "receipt-ocr").spec["decision"] == "false"
    matched = services.flows.match(corp.h_instancia, "corp", ["image/png"], {})
    assert matched is not None and matched[1].decision == "false"
    deck_match = services.flows.match(deck.h_instancia, "deck", ["image/png"], {})
    assert deck_match is not None and deck_match[1].decision != "false"


def test_versions_grow_and_the_old_ones_stay_readable(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    store = built.flows
    first = store.create(h, spec("notes", decision="true"))
    assert first.version == 1 and first.spec["decision"] == "true"
    with pytest.raises(Conflict, match="PUT /flows/notes"):
        store.create(h, spec("notes"))
    second = store.update(h, "notes", spec("notes", decision="false"))
    assert second.version == 2
    assert store.get(h, "notes").version == 2
    assert store.get(h, "notes", 1).spec["decision"] == "true"
    assert store.spec(h, "notes", 1).decision == "true"
    assert store.spec(h, "notes", 2).decision == "false"
    shown = flow_json(second)
    assert shown["id"] == "notes" and shown["version"] == 2
    assert shown["spec"]["decision"] == "false" and shown["createdAt"].endswith("Z")


def test_updates_name_the_flow_they_change(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    store = built.flows
    with pytest.raises(NotFound, match="POST /flows creates it"):
        store.update(h, "ghost", spec("ghost"))
    store.create(h, spec("notes"))
    with pytest.raises(Conflict, match="'other' is not 'notes'"):
        store.update(h, "notes", spec("other"))
    with pytest.raises(NotFound, match="no flow 'nope'"):
        store.get(h, "nope")
    with pytest.raises(NotFound):
        store.get(h, "notes", 7)


def test_a_deleted_flow_is_a_tombstone_and_may_be_created_again(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    store = built.flows
    store.create(h, spec("notes", decision="true"))
    store.delete(h, "notes")
    with pytest.raises(NotFound):
        store.get(h, "notes")
    with pytest.raises(NotFound):
        store.delete(h, "notes")
    assert store.get(h, "notes", 1).spec["decision"] == "true"  # history stays
    assert store.get(h, "notes", 2).deleted
    assert [row.id for row in store.live(h)] == [] and store.current(h) == []
    again = store.create(h, spec("notes", decision="false"))
    assert again.version == 3 and [row.version for row in store.live(h)] == [3]


def test_an_instance_sees_only_its_own_flows(built: Services) -> None:
    deck = built.add_instance("deck", default_flows=False).h_instancia
    corp = built.add_instance("corp", default_flows=False).h_instancia
    built.flows.create(deck, spec("notes"))
    with pytest.raises(NotFound):
        built.flows.get(corp, "notes")
    assert built.flows.live(corp) == [] and built.flows.match(corp, "corp", [], {}) is None
    assert built.flows.create(corp, spec("notes")).version == 1  # its own, not a version


def test_the_templates_are_copied_once(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    shipped = [flow["id"] for flow in DEFAULT_FLOWS]
    assert built.flows.install_defaults(h) == shipped
    assert built.flows.install_defaults(h) == []
    assert [row.version for row in built.flows.live(h)] == [1] * len(shipped)


def test_a_capture_takes_the_first_matching_flow_by_priority(built: Services) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    store = built.flows
    images = {"trigger": {"match": {"mediaType": ["image/*"]}}}
    store.create(h, spec("b-low", priority=1, **images))
    store.create(h, spec("a-low", priority=1, **images))
    store.create(h, spec("high", priority=5, trigger={"match": {"metadata": {"kind": "bill"}}}))
    store.create(h, spec("manual", priority=99, trigger={"on": "manual"}))
    store.create(h, spec("rest", priority=100, trigger={"fallback": True}))
    store.create(h, spec("later", priority=-5, trigger={"fallback": True}))
    order = [item.id for _, item in store.current(h)]
    assert order == ["rest", "manual", "high", "a-low", "b-low", "later"]

    def chosen(media: list[str], metadata: dict[str, Any]) -> str | None:
        found = store.match(h, "deck", media, metadata)
        return None if found is None else found[1].id

    assert chosen(["image/png"], {"kind": "bill"}) == "high"
    assert chosen(["image/png"], {}) == "a-low"  # ties: by id
    assert chosen(["audio/ogg"], {}) == "rest"  # no match: the first fallback
    store.update(h, "a-low", spec("a-low", priority=0, **images))
    version, chosen_spec = store.match(h, "deck", ["image/png"], {}) or (0, None)
    assert chosen_spec is not None and (chosen_spec.id, version) == ("b-low", 1)


def test_another_processs_change_is_seen_within_the_cache_time(
    built: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = built.add_instance("deck", default_flows=False).h_instancia
    mine, theirs = built.flows, FlowStore(built.engine)  # as in another process
    now = [0.0]
    monkeypatch.setattr(
        theirs, "_cache", TTLCache(maxsize=CACHE_SIZE, ttl=CACHE_SECONDS, timer=lambda: now[0])
    )
    mine.create(h, spec("notes"))
    assert [s.id for _, s in theirs.current(h)] == ["notes"]
    mine.create(h, spec("more"))
    assert [s.id for _, s in mine.current(h)] == ["more", "notes"]  # own writes at once
    now[0] += CACHE_SECONDS * 0.9
    assert [s.id for _, s in theirs.current(h)] == ["notes"]  # cached, briefly
    now[0] += CACHE_SECONDS * 0.2
    assert [s.id for _, s in theirs.current(h)] == ["more", "notes"]
