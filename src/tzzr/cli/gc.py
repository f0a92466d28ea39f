"""`tzzr gc`: orphan blobs and stale temporary uploads."""

from datetime import timedelta
from typing import Annotated

import typer

from tzzr.cli.console import build_services, err
from tzzr.cli.params import App


def gc(
    dry_run: Annotated[bool, typer.Option(help="Only report.")] = False,
    grace: Annotated[
        int | None,
        typer.Option(metavar="SECONDS", help="Keep blobs younger than this many seconds."),
    ] = None,
) -> None:
    """Report and remove blobs that no entry references, and stale temporary uploads."""
    from tzzr.gc import collect

    services = build_services()
    settings = services.settings
    report = collect(
        services.engine,
        services.blobs,
        services.instances,
        spool_dir=settings.home / "spool",
        grace=timedelta(seconds=settings.gc_grace_seconds if grace is None else grace),
        dry_run=dry_run,
        uploads=services.uploads,
    )
    verb = "would remove" if dry_run else "removed"
    for orphan in report.orphans:
        print(f"orphan\t{orphan.instance}\t{orphan.sha256}\t{orphan.size}")
    for key in report.stray_multipart:
        print(f"multipart\t{key}")
    for upload in report.uploads:
        print(f"upload\t{upload.h_instancia}\t{upload.id}\t{upload.state}\t{upload.offset}")
    err.print(
        f"{verb} {len(report.orphans)} orphan blob(s), {report.orphan_bytes} bytes, "
        f"{len(report.uploads)} expired or terminated upload(s), "
        f"{len(report.stray_multipart)} stray multipart upload(s), "
        f"and {len(report.temp_files)} stale temporary file(s)"
    )


def register(app: App) -> None:
    app.command()(gc)
