from datetime import timedelta

from tzzr.gc import collect
from tzzr.services import Services


def test_gc_removes_only_old_unreferenced_blobs(services: Services) -> None:
    services.bootstrap()
    deck = services.instances.get("deck")
    store = services.ingest.store_for(deck)
    with services.ingest.builder(deck) as builder:
        builder.new_file("kept.txt", None).write(b"referenced")
        builder.finish()
    orphan = store.put(b"left behind by a crash")

    def run(grace: timedelta, dry_run: bool) -> list[str]:
        report = collect(
            services.engine,
            services.blobs,
            services.instances,
            spool_dir=services.settings.home / "spool",
            grace=grace,
            dry_run=dry_run,
        )
        return [o.sha256 for o in report.orphans]

    assert run(timedelta(hours=1), dry_run=False) == []  # too young: maybe mid-ingest
    assert run(timedelta(0), dry_run=True) == [orphan.sha256]
    assert store.exists(orphan.sha256)
    assert run(timedelta(0), dry_run=False) == [orphan.sha256]
    assert not store.exists(orphan.sha256)
    assert len(list(store.list())) == 1


def test_gc_keeps_the_input_of_an_execution_that_has_not_run(services: Services) -> None:
    from tzzr.flows.spec import validate
    from tzzr.runs.service import RunInput

    services.bootstrap()
    deck = services.instances.get("deck")
    flow = {"id": "later", "trigger": {"on": "manual"}, "steps": [{"id": "a", "cell": "test-echo"}]}
    services.flows.create(deck.h_instancia, validate({**flow, "decision": "true"}))
    given = RunInput(type="bytes", encoding="base64", content="d2FpdGluZw==")  # "waiting"
    store = services.ingest.store_for(deck)
    services.alfred.start(deck, "later", given=given, store=store)
    report = collect(
        services.engine,
        services.blobs,
        services.instances,
        spool_dir=services.settings.home / "spool",
        grace=timedelta(0),
        dry_run=False,
    )
    assert report.orphans == []
    assert store.read_all(next(iter(store.list())).sha256) == b"waiting"
