"""`tzzr search QUERY`: entries found by what is known about them, through a server
(--url) or straight from TZZR_HOME; `tzzr search reindex` rebuilds the index."""

import html
import json
import re
from typing import Annotated, Any

import typer

from tzzr.cli.console import DEFAULT_INSTANCE, build_services, err, fail, out
from tzzr.cli.params import App

MARK = re.compile(r"<mark>(.*?)</mark>", re.DOTALL)


def search(
    query: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="QUERY",
            help='Words (prefixes), "phrases", -excluded; `reindex` alone rebuilds the index.',
            show_default=False,
        ),
    ] = None,
    state: Annotated[str | None, typer.Option(help="Only entries in this state.")] = None,
    media_type: Annotated[
        str | None, typer.Option(metavar="TYPE", help="image/png, or image/* for any image.")
    ] = None,
    decision: Annotated[str | None, typer.Option(help="ok or incident.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only entries of this flow.")] = None,
    min_total: Annotated[float | None, typer.Option(help="Totals from this amount.")] = None,
    max_total: Annotated[float | None, typer.Option(help="Totals up to this amount.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON answer.")] = False,
    url: Annotated[str | None, typer.Option(envvar="TZZR_URL", help="Server to ask.")] = None,
    key: Annotated[str | None, typer.Option(envvar="TZZR_KEY", help="API key for --url.")] = None,
    instance: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help=f"Instance, locally (no --url): {DEFAULT_INSTANCE} by default; reindex: all.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Find entries by their text, fields and decisions (docs/search.md)."""
    words = list(query or [])
    if words == ["reindex"]:
        if url is not None:
            raise fail("reindex works on TZZR_HOME's database, not through --url", 2)
        _reindex(instance)
        return
    q = " ".join(words)
    params: dict[str, Any] = {
        "q": q,
        "state": state,
        "media_type": media_type,
        "decision": decision,
        "flow": flow,
        "min_total": min_total,
        "max_total": max_total,
        "limit": limit,
    }
    params = {k: v for k, v in params.items() if v is not None}
    if url is not None:
        answer = _remote(url, key, params)
    else:
        from tzzr.errors import InvalidInput

        try:
            answer = _local(instance or DEFAULT_INSTANCE, params)
        except InvalidInput as exc:  # what the server would answer 422 to
            raise fail(exc.message, 2) from exc
    if as_json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    _print(answer)


def _remote(url: str, key: str | None, params: dict[str, Any]) -> dict[str, Any]:
    import httpx

    if not key:
        raise fail("--url needs --key (or TZZR_KEY)", 2)
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        try:
            response = client.get("/search", params=params)
        except httpx.HTTPError as exc:
            raise fail(f"cannot reach {url}: {exc}") from exc
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:300]
        raise fail(f"{response.status_code}: {message}")
    found: dict[str, Any] = response.json()
    return found


def _local(instance: str, params: dict[str, Any]) -> dict[str, Any]:
    from tzzr.search.find import Filters

    services = build_services()
    try:
        info = services.instances.get(instance)
        filters = Filters(
            state=params.get("state"),
            media_type=params.get("media_type"),
            min_total=params.get("min_total"),
            max_total=params.get("max_total"),
            flow=params.get("flow"),
            decision=params.get("decision"),
        )
        return services.search.search(info, params.get("q"), filters, limit=params["limit"])
    finally:
        services.close()


def _print(answer: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    results = answer["results"]
    if not results:
        err.print(f"nothing matches {answer['query']!r}" if answer["query"] else "no entries")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("entry", "state", "when", "title", "total", "found"):
        table.add_column(column, overflow="fold")
    for r in results:
        total = f"{r['total']:.2f} {r['currency'] or ''}".strip() if r["total"] is not None else ""
        table.add_row(
            r["h_entrada"][:12],
            r["state"],
            r["created_at"][:16].replace("T", " "),
            escape(r["title"]),
            total,
            _snippet(r["snippet"]),
        )
    out.print(table)
    if answer.get("next_cursor"):
        err.print(f"{len(results)} shown; more match (raise --limit or narrow the query)")


def _snippet(marked: str) -> str:
    """The API's snippet (escaped HTML, matches in <mark>) as Rich markup."""
    from rich.markup import escape

    parts = MARK.split(marked.replace("\n", " "))
    return "".join(
        escape(html.unescape(part)) if k % 2 == 0 else f"[bold]{escape(html.unescape(part))}[/bold]"
        for k, part in enumerate(parts)
    )


def _reindex(instance: str | None) -> None:
    from rich.progress import Progress

    from tzzr.db.engine import write_transaction
    from tzzr.search import index

    services = build_services()
    try:
        h = services.instances.get(instance).h_instancia if instance else None
        with (
            Progress(console=err.console, transient=True) as progress,
            write_transaction(services.engine) as conn,
        ):
            task = progress.add_task("indexing", total=None)
            done = index.reindex(
                conn, h, lambda n, total: progress.update(task, completed=n, total=total)
            )
        err.print(f"indexed {done} entr{'y' if done == 1 else 'ies'}")
    finally:
        services.close()


def register(app: App) -> None:
    app.command()(search)
