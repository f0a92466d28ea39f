"""`tzzr serve` and `tzzr worker`: the long-running processes."""

import os
import sys
from typing import Annotated, Any

import typer

from tzzr.cli.console import DEFAULT_INSTANCE, err, fail
from tzzr.cli.params import App


def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (TZZR_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TZZR_PORT).")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
    worker: Annotated[
        bool | None,
        typer.Option(help="Run an embedded worker for cell runs (TZZR_EMBEDDED_WORKER)."),
    ] = None,
) -> None:
    """Run the HTTP server (and an embedded worker); on first start, create the `deck`
    instance and a key."""
    import uvicorn

    from tzzr.app import create_app
    from tzzr.config import Settings
    from tzzr.services import Services

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)
    services = Services.build(settings, long_running=True)
    key = services.bootstrap(default_flows=True)
    url = settings.public_url
    err.print(f"[bold]TZZR[/bold] data in {settings.home}")
    err.print(f"Listening on [bold]{url}[/bold]")
    if key is not None:
        err.print(
            f"Created instance [bold]{DEFAULT_INSTANCE}[/bold] and an admin API key "
            "(shown once, keep it):"
        )
        print(key, flush=True)
        err.print(
            'Try: curl -H "Authorization: Bearer $KEY" -F metadata=\'{"note":"hi"}\' '
            f"-F file=@README.md {url}/ingest  (KEY: the key above)",
            soft_wrap=True,
        )
    else:
        err.print(f"New key: tzzr keys create --instance {DEFAULT_INSTANCE} --role admin")
    embedded = None
    if settings.embedded_worker if worker is None else worker:
        import subprocess

        # Its own process group member, stopped with the server: cells never share
        # the server's memory or its event loop.
        embedded = subprocess.Popen(
            [sys.executable, "-m", "tzzr", "worker", "--parent-pid", str(os.getpid())]
        )
        err.print(
            f"Embedded worker: {settings.worker_concurrency} process(es), "
            f"queue {services.queue.describe()}",
            soft_wrap=True,
        )
    try:
        from tzzr.sentinel.logs import log_config

        uvicorn.run(
            create_app(services),
            host=settings.host,
            port=settings.port,
            access_log=access_log,
            log_level="info",
            log_config=log_config(settings.log_format),
            timeout_graceful_shutdown=10,
        )
    finally:
        if embedded is not None:
            embedded.terminate()
            try:
                embedded.wait(15)
            except Exception:
                embedded.kill()


def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues to take runs from (cpu, gpu).")
    ] = "cpu,gpu",
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker processes (TZZR_WORKER_CONCURRENCY)."),
    ] = None,
    parent_pid: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Execute cell runs from the queue until stopped (SIGTERM / Ctrl-C)."""
    import logging.config

    from tzzr.config import Settings
    from tzzr.queue import QUEUES
    from tzzr.sentinel.logs import log_config
    from tzzr.services import Services
    from tzzr.worker import WorkerPool

    names = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if not names or unknown:
        raise fail(f"unknown queue(s) {', '.join(unknown) or '(none)'}; queues: cpu, gpu", 2)
    settings = Settings()
    count = concurrency or settings.worker_concurrency
    logging.config.dictConfig(log_config(settings.log_format))
    Services.build(settings).close()  # migrate and check the configuration first
    pool = WorkerPool(settings, names, count, parent_pid)
    err.print(f"Worker {pool.name}: {count} process(es) on {', '.join(names)}")
    pool.run()


def register(app: App) -> None:
    app.command()(serve)
    app.command()(worker)
