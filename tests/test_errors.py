"""One exception hierarchy (tzzr.errors): each kind its status and code, a body naming
the field, and Duplicate carrying the existing entry."""

import pytest

from tzzr import errors


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        (errors.TzzrError, 400, "bad_request"),
        (errors.InvalidInput, 422, "invalid"),
        (errors.Unauthorized, 401, "unauthorized"),
        (errors.Forbidden, 403, "forbidden"),
        (errors.NotFound, 404, "not_found"),
        (errors.TooLarge, 413, "too_large"),
        (errors.Conflict, 409, "conflict"),
        (errors.Unavailable, 503, "unavailable"),
        (errors.TooManyRequests, 429, "rate_limited"),
        (errors.Busy, 503, "busy"),
    ],
)
def test_each_kind_has_its_status_and_code(
    kind: type[errors.TzzrError], status: int, code: str
) -> None:
    error = kind("what went wrong")
    assert (error.status, error.code) == (status, code)
    assert error.body() == {"error": {"code": code, "message": "what went wrong"}}
    assert str(error) == "what went wrong" and error.retry_after is None


def test_the_body_names_the_field_and_retry_after_is_kept() -> None:
    error = errors.TooManyRequests("slow down", field="key", retry_after=3)
    assert error.body()["error"] == {"code": "rate_limited", "message": "slow down", "field": "key"}
    assert error.retry_after == 3


def test_a_duplicate_is_a_conflict_naming_the_existing_entry() -> None:
    duplicate = errors.Duplicate("ab" * 32, "cd" * 32)
    assert isinstance(duplicate, errors.Conflict) and duplicate.status == 409
    assert duplicate.code == "duplicate"
    assert "ab" * 32 in duplicate.message
    assert duplicate.body()["h_entrada"] == "ab" * 32
    assert duplicate.body()["h_instancia"] == "cd" * 32


def test_busy_is_unavailable_so_a_handler_of_one_catches_both() -> None:
    with pytest.raises(errors.Unavailable):
        raise errors.Busy("later")
