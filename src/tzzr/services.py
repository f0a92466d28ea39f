"""The one set of services that the server and every CLI command build."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tzzr.blobs import BlobStore, open_store
from tzzr.cells.catalog import Catalog
from tzzr.cells.registry import Registry
from tzzr.cells.samples import Visualizer
from tzzr.config import Settings
from tzzr.db.engine import create_db_engine, dispose, migrate, migrate_in_child
from tzzr.db.models import Instance
from tzzr.devices.registry import Devices
from tzzr.entries import EntryReader
from tzzr.factory.service import Factory
from tzzr.feldman.sealing import Feldman
from tzzr.feldman.signing import SigningKeys
from tzzr.flows.engine import Alfred
from tzzr.flows.store import FlowStore
from tzzr.ingest.service import IngestService
from tzzr.instances import InstanceInfo, Instances
from tzzr.jobs import Jobs
from tzzr.keys import Keys
from tzzr.mason import Mason
from tzzr.outbound import OutboundPolicy
from tzzr.queue import RunQueue
from tzzr.runs.executor import Executor
from tzzr.runs.previews import Previews
from tzzr.runs.service import Runs
from tzzr.search.find import Finder
from tzzr.sentinel.alerts import Alerts
from tzzr.uploads.service import Uploads
from tzzr.vision.service import Visions

DEFAULT_INSTANCE = "deck"


def secure_home(home: Path) -> None:
    """The data directory, owner-only (0700): it holds the instances' seeds, signing keys
    and remote cells' tokens. Closing the directory closes everything in it, even files
    an older version wrote 0644."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077:
        home.chmod(0o700)
        for path in home.iterdir():  # the database, the queue, keys/: owner-only as well
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & 0o700)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    instances: Instances
    keys: Keys
    ingest: IngestService
    entries: EntryReader
    ledger: Feldman
    cells: Registry
    catalog: Catalog
    queue: RunQueue
    runs: Runs
    previews: Previews
    jobs: Jobs
    visualizer: Visualizer
    flows: FlowStore
    mason: Mason
    alfred: Alfred
    alerts: Alerts
    search: Finder
    visions: Visions
    factory: Factory
    clock: Callable[[], datetime]
    uploads: Uploads

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        long_running: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> "Services":
        """`clock` (UTC now) is injectable for tests of the enrichment window."""
        secure_home(settings.home)
        engine = create_db_engine(settings.database_url)
        if long_running:
            migrate_in_child(engine, settings.database_url)
        else:
            migrate(engine)
        blobs = open_store(settings)
        instances = Instances(engine)
        ledger = Feldman(
            engine,
            SigningKeys(engine, settings.home / "keys"),
            publish_to=blobs if settings.publish_tiles else None,
        )
        cells = Registry.discover()
        catalog = Catalog(engine, cells, OutboundPolicy.from_settings(settings))
        queue = RunQueue(settings.queue_url, settings.queue_name)
        now = clock or (lambda: datetime.now(UTC))
        flows = FlowStore(engine)
        mason = Mason(engine, ledger, settings.enrich_window, now)
        alfred = Alfred(engine, flows, catalog, queue, blobs, ledger, mason, settings, now)
        previews = Previews(engine, cells, queue, blobs, settings)
        uploads = Uploads(engine, blobs, settings, now)
        jobs = Jobs(engine, lease_seconds=settings.job_lease_seconds)
        visions = Visions(engine, ledger, now)
        ingest = IngestService(
            engine, blobs, settings, router=alfred, previews=previews, uploads=uploads
        )
        return cls(
            settings=settings,
            engine=engine,
            blobs=blobs,
            instances=instances,
            keys=Keys(engine, instances, settings.key_cache_seconds),
            ingest=ingest,
            entries=EntryReader(engine),
            ledger=ledger,
            cells=cells,
            catalog=catalog,
            queue=queue,
            runs=Runs(engine, catalog, queue, blobs, settings),
            previews=previews,
            jobs=jobs,
            visualizer=Visualizer(),
            flows=flows,
            mason=mason,
            alfred=alfred,
            alerts=Alerts(engine, settings, instances, ledger.pending),
            search=Finder(engine),
            visions=visions,
            factory=Factory(engine, jobs, ledger, visions, catalog, settings, now),
            clock=now,
            uploads=uploads,
        )

    @property
    def devices(self) -> Devices:
        return self.ingest.devices  # the ingest checks capture signatures with it

    def executor(self, worker: str) -> Executor:
        return Executor(
            self.engine, self.catalog, self.queue, self.blobs, self.ledger, self.settings, worker
        )

    def add_instance(
        self,
        name: str,
        fields_schema: dict[str, Any] | None = None,
        *,
        default_flows: bool = True,
    ) -> InstanceInfo:
        """A new instance, with its own copy of the shipped flows."""
        info = self.instances.add(name, fields_schema)
        if default_flows:
            self.flows.install_defaults(info.h_instancia)
        return info

    def install_default_flows(self, name: str | None = None) -> dict[str, list[str]]:
        """The shipped flows copied into every instance (or one) that never had them:
        instance name -> flow ids installed."""
        chosen = [self.instances.get(name)] if name else self.instances.list()
        return {info.name: self.flows.install_defaults(info.h_instancia) for info in chosen}

    def bootstrap(self, *, default_flows: bool = False) -> str | None:
        """On an empty database, create the `deck` instance and an admin key for it;
        returns that key (shown once), or None when instances already exist."""
        with self.engine.connect() as conn:
            if conn.execute(select(Instance.id).limit(1)).first() is not None:
                return None
        self.add_instance(DEFAULT_INSTANCE, default_flows=default_flows)
        key, _ = self.keys.create(DEFAULT_INSTANCE, "admin")
        return key

    def close(self) -> None:
        self.jobs.close()
        self.queue.close()
        dispose(self.engine)
