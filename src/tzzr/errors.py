"""One exception hierarchy; `tzzr.api.problems` maps it to HTTP once.

Every message says what is wrong and what to do about it.
"""

from typing import Any


class TzzrError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds; sent as Retry-After when set

    def __init__(
        self, message: str, *, field: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class InvalidInput(TzzrError):
    status = 422
    code = "invalid"


class Unauthorized(TzzrError):
    status = 401
    code = "unauthorized"


class Forbidden(TzzrError):
    status = 403
    code = "forbidden"


class NotFound(TzzrError):
    status = 404
    code = "not_found"


class TooLarge(TzzrError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(TzzrError):
    status = 415
    code = "unsupported_media_type"


class RangeNotSatisfiable(TzzrError):
    status = 416
    code = "range_not_satisfiable"


class Conflict(TzzrError):
    status = 409
    code = "conflict"


class Duplicate(Conflict):
    """The container was already ingested; carries the existing entry's address."""

    code = "duplicate"

    def __init__(self, h_entrada: str, h_instancia: str) -> None:
        super().__init__(f"this container was already ingested as {h_entrada}")
        self.h_entrada = h_entrada
        self.h_instancia = h_instancia

    def body(self) -> dict[str, Any]:
        return {**super().body(), "h_entrada": self.h_entrada, "h_instancia": self.h_instancia}


class ConfigError(TzzrError):
    """The configuration cannot work; raised at start-up, never for a request."""

    code = "config"


class Unavailable(TzzrError):
    """A service this request needs (the queue, a remote cell) cannot be reached now."""

    status = 503
    code = "unavailable"


class TooManyRequests(TzzrError):
    """A rate limit or a concurrency bound was reached; try again after `retry_after`."""

    status = 429
    code = "rate_limited"


class Busy(Unavailable):
    """The server could not finish this request in time; the work may go on."""

    code = "busy"
