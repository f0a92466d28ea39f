"""50 clients send the same container at the same moment: exactly one wins."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings, running
from tzzr.db.models import Entry


@pytest.mark.parametrize("backend", ["sqlite-local", "postgresql-s3"])
def test_fifty_identical_submissions_give_one_200(backend: str, tmp_path: Path) -> None:
    photo = os.urandom(200_000)
    with running(make_settings(tmp_path, backend)) as live:
        barrier = threading.Barrier(50)

        def submit(_: int) -> int:
            with httpx.Client(
                base_url=live.url, timeout=60, headers={"Authorization": f"Bearer {live.admin_key}"}
            ) as client:
                barrier.wait()
                return client.post(
                    "/ingest",
                    data={"metadata": '{"same": true}'},
                    files=[("file", ("same.jpg", photo, "image/jpeg"))],
                ).status_code

        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(submit, range(50)))
        with live.services.engine.connect() as conn:
            entries = conn.execute(select(func.count()).select_from(Entry)).scalar_one()
    assert sorted(statuses) == [200] + [409] * 49
    assert entries == 1
