"""THE FACTORY's language model: any OpenAI-compatible Chat Completions server (llama.cpp's
server, Ollama, vLLM, a hosted API) through the `openai` client with a base URL.

Every question asks for JSON-Schema structured output (`response_format` json_schema);
the answer is validated with `jsonschema`, and a model that answers something invalid
gets one repair round (its answer and what is wrong with it) before the question fails.
Timeouts, 429s (Retry-After honoured, bounded), 5xx answers and an unreachable server
are `ModelError`s whose message says what to fix; a job shows it as its error."""

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from tzzr.canonical import canonical_json, sha256_hex
from tzzr.config import Settings
from tzzr.errors import TzzrError

MAX_429_RETRIES = 3  # then the rate limit is the job's error
TEMPERATURE = 0.2


class ModelError(TzzrError):
    """The model server failed the question; the message says what to fix."""

    status = 502
    code = "model_error"


class ModelTimeout(ModelError):
    code = "model_timeout"


class ModelRateLimited(ModelError):
    code = "model_rate_limited"


class ModelUnavailable(ModelError):
    code = "model_unavailable"


class ModelInvalidOutput(ModelError):
    code = "model_invalid_output"


@dataclass(frozen=True)
class Answer:
    """A validated answer and what it takes to attest it."""

    data: dict[str, Any]
    model: str
    prompt_hash: str  # sha256 of the canonical JSON of the messages and the schema
    output_hash: str  # sha256 of the raw text the model answered (the last one)
    repaired: bool
    parameters: dict[str, Any] = field(default_factory=dict)


def prompt_hash(messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({"messages": messages, "schema": schema}))


def schema_error(data: Any, schema: dict[str, Any]) -> str | None:
    """What is wrong with `data` under `schema` (the most relevant error), or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(data))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the answer"
    return f"{where}: {error.message}"


def _parse(text: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at character {exc.pos})"
    problem = schema_error(data, schema)
    if problem is not None:
        return None, problem
    if not isinstance(data, dict):
        return None, "the answer must be a JSON object"
    return data, None


class ChatModel:
    """One model on one OpenAI-compatible server."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        max_tokens: int = 2048,
        retry_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.shown_url = shown_url(base_url)
        self.model = model
        self.max_tokens = max_tokens
        self.retry_wait = retry_wait
        self.timeout = timeout
        self._sleep = sleep
        import openai  # (and aiohttp...) load with a model, not with the server

        # Our own retries (429 with its Retry-After, bounded), not the client's hidden ones.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "ChatModel | None":
        """The configured model, or None (THE FACTORY then uses its deterministic planner)."""
        if not settings.llm_base_url:
            return None
        if not settings.llm_model:
            raise ModelError(
                "TZZR_LLM_BASE_URL is set but TZZR_LLM_MODEL is not: set it to a model "
                f"that {shown_url(settings.llm_base_url)} serves"
            )
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_key,
            settings.llm_timeout_seconds,
            settings.llm_max_tokens,
            settings.llm_retry_wait_seconds,
        )

    @property
    def parameters(self) -> dict[str, Any]:
        return {"temperature": TEMPERATURE, "max_tokens": self.max_tokens}

    def ask(self, system: str, user: str, schema: dict[str, Any], name: str) -> Answer:
        """The model's answer to `user`, a JSON object valid under `schema`."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        asked = prompt_hash(messages, schema)
        text = self._complete(messages, schema, name)
        data, problem = _parse(text, schema)
        repaired = False
        if data is None:
            repaired = True
            messages = [
                *messages,
                {"role": "assistant", "content": text[:20_000]},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {problem}. Answer again with only "
                    "a JSON object that matches the schema.",
                },
            ]
            text = self._complete(messages, schema, name)
            data, problem = _parse(text, schema)
            if data is None:
                raise ModelInvalidOutput(
                    f"model {self.model!r} at {self.shown_url} answered invalid output twice "
                    f"(after a repair round): {problem}. Use a model that follows JSON "
                    "Schema (a server with response_format json_schema, such as llama.cpp's "
                    "or vLLM's), or a larger model"
                )
        return Answer(data, self.model, asked, sha256_hex(text.encode()), repaired, self.parameters)

    def _complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> str:
        import openai

        waited = 0.0
        for attempt in range(MAX_429_RETRIES + 1):
            try:
                reply = self._client.chat.completions.create(
                    model=self.model,
                    messages=cast(Any, messages),
                    response_format=cast(
                        Any,
                        {
                            "type": "json_schema",
                            "json_schema": {"name": name, "schema": schema, "strict": True},
                        },
                    ),
                    temperature=TEMPERATURE,
                    max_tokens=self.max_tokens,
                )
            except openai.RateLimitError as exc:
                wait = _retry_after(exc.response.headers.get("retry-after"))
                if attempt == MAX_429_RETRIES or wait is None or waited + wait > self.retry_wait:
                    asked = f"; it asked to wait {wait:g} s" if wait is not None else ""
                    raise ModelRateLimited(
                        f"the model server at {self.shown_url} answered 429 Too Many Requests "
                        f"{attempt + 1} time(s){asked}, more than TZZR_LLM_RETRY_WAIT_SECONDS "
                        f"({self.retry_wait:g} s) allows: try again later, raise that "
                        "setting, or raise the server's rate limit",
                        retry_after=round(wait) if wait is not None else None,
                    ) from exc
                waited += wait
                self._sleep(wait)
                continue
            except openai.APITimeoutError as exc:
                raise ModelTimeout(
                    f"the model server at {self.shown_url} did not answer within "
                    f"{self.timeout:g} s: raise TZZR_LLM_TIMEOUT_SECONDS, lower "
                    "TZZR_LLM_MAX_TOKENS, or use a smaller model"
                ) from exc
            except openai.APIConnectionError as exc:
                why = str(exc.__cause__ or exc).replace(self.base_url, self.shown_url)
                raise ModelUnavailable(
                    f"cannot reach the model server at {self.shown_url} ({why}): "
                    "start it, or fix TZZR_LLM_BASE_URL"
                ) from exc
            except openai.AuthenticationError as exc:
                raise ModelError(
                    f"the model server at {self.shown_url} refused the key (401): "
                    "set TZZR_LLM_API_KEY to a key it accepts"
                ) from exc
            except openai.NotFoundError as exc:
                raise ModelError(
                    f"the model server at {self.shown_url} answered 404 for model "
                    f"{self.model!r}: set TZZR_LLM_MODEL to a model it serves, and "
                    "TZZR_LLM_BASE_URL to its OpenAI-compatible root (usually ending in /v1)"
                ) from exc
            except openai.APIStatusError as exc:
                detail = exc.response.text[:300]
                if exc.status_code >= 500:
                    raise ModelUnavailable(
                        f"the model server at {self.shown_url} failed with "
                        f"{exc.status_code} ({detail}): look at its log; THE FACTORY "
                        "tries again when the job is started again"
                    ) from exc
                raise ModelError(
                    f"the model server at {self.shown_url} refused the question with "
                    f"{exc.status_code} ({detail}): it may not support response_format "
                    "json_schema; use a server that does"
                ) from exc
            if not reply.choices or reply.choices[0].message.content is None:
                return ""  # an empty answer: invalid JSON, which the repair round handles
            return str(reply.choices[0].message.content)
        raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the delta form; an HTTP date is treated as unknown)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not math.isfinite(seconds):  # "inf" or "nan": as good as no answer
        return None
    return max(0.0, seconds)


def shown_url(url: str) -> str:
    """The URL as messages show it: without a user:password (or a query that may hold a
    key). Job errors, which read keys see, name the model server this way."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(the configured TZZR_LLM_BASE_URL)"
