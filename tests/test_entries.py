"""Reading entries (entries.py): an instance's own, newest first, filtered by state, time
and media type, a page at a time with an opaque cursor; another instance's entry or blob
is not found. Over HTTP (/entries, /blobs) in tests/api/test_entries.py."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import insert

from tzzr.db.models import Entry, EntryFile
from tzzr.entries import BlobRef, EntryReader
from tzzr.errors import InvalidInput, NotFound
from tzzr.instances import InstanceInfo
from tzzr.services import Services

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


class Made:
    """Entries written straight into the tables, with the times and states a test needs."""

    def __init__(self, services: Services) -> None:
        self.engine = services.engine
        self.reader = EntryReader(services.engine)
        self.deck = services.instances.add("deck")
        self.other = services.instances.add("other")
        self.count = 0

    def entry(
        self,
        instance: InstanceInfo,
        at: datetime,
        state: str = "received",
        media_types: tuple[str, ...] = (),
    ) -> str:
        self.count += 1
        h_entrada = hashlib.sha256(f"entry {self.count}".encode()).hexdigest()
        with self.engine.begin() as conn:
            entry_id = conn.execute(
                insert(Entry)
                .values(
                    h_instancia=instance.h_instancia,
                    h_entrada=h_entrada,
                    contenedor={"metadata": {"n": self.count}, "files": []},
                    r2_paths=[],
                    state=state,
                    created_at=at,
                )
                .returning(Entry.id)
            ).scalar_one()
            for position, kind in enumerate(media_types):
                conn.execute(
                    insert(EntryFile).values(
                        entry_id=entry_id,
                        position=position,
                        name=f"f{position}",
                        media_type=kind,
                        sha256=self.sha(h_entrada, position),
                        size=100 + position,
                    )
                )
        return h_entrada

    @staticmethod
    def sha(h_entrada: str, position: int) -> str:
        return hashlib.sha256(f"{h_entrada}/{position}".encode()).hexdigest()


@pytest.fixture
def made(services: Services) -> Made:
    return Made(services)


def test_pages_visit_every_entry_once_newest_first(made: Made) -> None:
    # three share a moment: the row id breaks the tie, also across a page's edge
    times = [T0, T0 + timedelta(seconds=1), *[T0 + timedelta(seconds=2)] * 3, T0 + timedelta(3)]
    ids = [made.entry(made.deck, at) for at in times]
    made.entry(made.other, T0 + timedelta(seconds=2))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page, cursor = made.reader.list(made.deck, limit=2, cursor=cursor)
        pages += 1
        assert len(page) <= 2
        seen += [e["h_entrada"] for e in page]
        if cursor is None:
            break
    assert seen == list(reversed(ids)) and pages == 3
    everything, last = made.reader.list(made.deck, limit=6)
    assert [e["h_entrada"] for e in everything] == seen and last is None  # exactly a page


def test_filters_by_state_time_and_media_type(made: Made) -> None:
    audio = made.entry(made.deck, T0, media_types=("audio/ogg",))
    image = made.entry(made.deck, T0 + timedelta(minutes=1), "sealed", ("text/plain", "image/png"))
    later = made.entry(made.deck, T0 + timedelta(minutes=2), "consolidated")
    made.entry(made.other, T0, media_types=("audio/ogg",))

    def listed(**filters: Any) -> list[str]:
        return [e["h_entrada"] for e in made.reader.list(made.deck, **filters)[0]]

    assert listed(state="sealed") == [image]
    assert listed(state="mason") == []
    assert listed(since=T0 + timedelta(minutes=1)) == [later, image]  # since: inclusive
    assert listed(until=T0 + timedelta(minutes=1)) == [audio]  # until: exclusive
    naive = datetime(2026, 11, 21, 14, 1)  # taken as UTC
    assert listed(since=naive, until=naive + timedelta(minutes=1)) == [image]
    madrid = T0.astimezone(timezone(timedelta(hours=1)))  # 15:00+01:00
    assert listed(until=madrid + timedelta(seconds=1)) == [audio]  # any zone, compared in UTC
    assert listed(media_type="AUDIO/OGG") == [audio]
    assert listed(media_type="image/*") == [image]  # any of its files
    assert listed(media_type="image/jpeg") == []
    assert listed(state="received", media_type="audio/*", since=T0) == [audio]


def test_an_entry_is_read_in_its_own_instance_only(made: Made) -> None:
    mine = made.entry(made.deck, T0 + timedelta(microseconds=5), "sealed")
    assert made.reader.get(made.deck, mine) == {
        "h_entrada": mine,
        "h_instancia": made.deck.h_instancia,
        "state": "sealed",
        "created_at": "2026-11-21T14:00:00.000005Z",
        "contenedor": {"metadata": {"n": 1}, "files": []},
        "r2_paths": [],
    }
    with pytest.raises(NotFound, match=f"no entry {mine} in this instance"):
        made.reader.get(made.other, mine)
    with pytest.raises(InvalidInput) as bad:
        made.reader.get(made.deck, mine.upper())
    assert bad.value.field == "h_entrada"


def test_a_cursor_not_issued_here_is_refused(made: Made) -> None:
    for forged in ("garbage", "W1tbW11dXV0", "WzFd"):  # not base64 JSON, [[[[]]]], [1]
        with pytest.raises(InvalidInput) as bad:
            made.reader.list(made.deck, cursor=forged)
        assert bad.value.field == "cursor"


def test_a_blob_is_served_only_where_an_entry_references_it(made: Made) -> None:
    h = made.entry(made.deck, T0, media_types=("image/png", "audio/ogg"))
    second = made.sha(h, 1)
    assert made.reader.blob(made.deck, second) == BlobRef(second, "audio/ogg", 101)
    with pytest.raises(NotFound, match="no blob"):
        made.reader.blob(made.other, second)
    with pytest.raises(NotFound):
        made.reader.blob(made.deck, hashlib.sha256(b"never stored").hexdigest())
    with pytest.raises(InvalidInput) as bad:
        made.reader.blob(made.deck, "abc")
    assert bad.value.field == "sha256"
