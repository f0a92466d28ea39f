"""tzzr.uploads.protocol: the tus headers parsed as the spec writes them, and refused
with the header named."""

import base64

import pytest

import tzzr.uploads.protocol as protocol
from tzzr.errors import InvalidInput


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_metadata_pairs_and_flags() -> None:
    header = f"filename {_b64('recibo niño.jpg')},filetype {_b64('image/jpeg')},is_confidential"
    assert protocol.parse_metadata(header) == {
        "filename": "recibo niño.jpg",
        "filetype": "image/jpeg",
        "is_confidential": "",
    }
    assert protocol.parse_metadata(protocol.encode_metadata({"a": "1", "b": ""})) == {
        "a": "1",
        "b": "",
    }
    assert protocol.parse_metadata(None) == {}


@pytest.mark.parametrize(
    "header",
    [
        "file name x",
        "filename !!",
        f"a {_b64('x')},a {_b64('y')}",
        "n " + _b64("a\nb"),
        "x" * 5000,
    ],
)
def test_bad_metadata_names_the_header(header: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        protocol.parse_metadata(header)
    assert raised.value.field == "Upload-Metadata"


def test_declared_sha256_and_checksums() -> None:
    digest = "AB" * 32
    assert protocol.declared_sha256({"sha256": digest}) == digest.lower()
    assert protocol.declared_sha256({}) is None
    with pytest.raises(InvalidInput):
        protocol.declared_sha256({"sha256": "abc"})
    raw = bytes(range(32))
    assert protocol.parse_checksum("sha256 " + base64.b64encode(raw).decode()) == raw
    for bad in ("sha1 AAAA", "sha256", "sha256 !!!!", "sha256 " + base64.b64encode(b"x").decode()):
        with pytest.raises(InvalidInput) as raised:
            protocol.parse_checksum(bad)
        assert raised.value.field == "Upload-Checksum"


@pytest.mark.parametrize("value", [None, "", "-1", "1.5", "١٢", "9" * 20])
def test_lengths_are_plain_non_negative_integers(value: str | None) -> None:
    with pytest.raises(InvalidInput):
        protocol.parse_length(value, "Upload-Length")


def test_version() -> None:
    protocol.check_version("1.0.0")
    with pytest.raises(protocol.PreconditionFailed):
        protocol.check_version("0.2.2")
