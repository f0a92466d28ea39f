"""The floor for bench/ingest.py: a minimal ASGI app that inserts the same entry row
into the same kind of database (same engine factory, pragmas and schema) and nothing
else: no auth, no validation, no blobs."""

import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import insert

from tzzr.db.engine import create_db_engine, migrate
from tzzr.db.models import Entry, Instance, utcnow

engine = create_db_engine(os.environ["FLOOR_DATABASE_URL"])
migrate(engine)
H_INSTANCIA = "f" * 64
with engine.begin() as conn:
    if conn.execute(Instance.__table__.select()).first() is None:
        conn.execute(
            insert(Instance).values(
                name="floor",
                h_instancia=H_INSTANCIA,
                seed="x",
                blob_prefix="floor",
                created_at=utcnow(),
            )
        )

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _insert(body: bytes) -> str:
    h = hashlib.sha256(body).hexdigest()
    container = json.loads(body)
    with engine.begin() as conn:
        conn.execute(
            insert(Entry).values(
                h_instancia=H_INSTANCIA,
                h_entrada=h,
                contenedor=container,
                r2_paths=[],
                state="received",
                created_at=utcnow(),
            )
        )
    return h


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    h = await anyio.to_thread.run_sync(_insert, body)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps({"h_entrada": h}).encode()})
