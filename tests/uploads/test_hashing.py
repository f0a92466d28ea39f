"""ResumableSha256: the state after any prefix, stored and restored, goes on to hashlib's
digest of the whole; the digest of an empty upload is SHA-256 of nothing."""

import hashlib
import os
import random

from tzzr.uploads.hashing import ResumableSha256


def test_a_restored_state_goes_on_to_hashlibs_digest() -> None:
    rng = random.Random(7)
    data = os.urandom(300_000)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(data)), 3))
        hasher = ResumableSha256()
        start = 0
        for cut in [*cuts, len(data)]:
            hasher.update(data[start:cut])
            hasher = ResumableSha256(hasher.state())  # as after a restart
            start = cut
        assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()


def test_hexdigest_leaves_the_hasher_going() -> None:
    hasher = ResumableSha256()
    hasher.update(b"abc")
    assert hasher.hexdigest() == hashlib.sha256(b"abc").hexdigest()
    hasher.update(b"def")
    assert hasher.hexdigest() == hashlib.sha256(b"abcdef").hexdigest()
    assert ResumableSha256().hexdigest() == hashlib.sha256(b"").hexdigest()
