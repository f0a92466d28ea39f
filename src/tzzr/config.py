"""Settings: `TZZR_*` environment variables, then `$TZZR_HOME/tzzr.toml`, then defaults."""

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

MiB = 1024 * 1024
GiB = 1024 * MiB
# One rate in the `limits` library's notation ("20/minute", "1200 per 1 hour"), or "".
RATE = r"^(|[0-9]+ *(/|per) *([0-9]+ *)?(second|minute|hour|day|month|year)s?)$"


def default_home() -> Path:
    return Path(os.environ.get("TZZR_HOME", "tzzr-data")).resolve()


class Settings(BaseSettings):
    """Every setting is documented in docs/configuration.md (a test checks it)."""

    model_config = SettingsConfigDict(env_prefix="TZZR_", extra="forbid")

    home: Path = Field(default_factory=default_home)
    database_url: str = ""
    blob_url: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "auto"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""

    max_file_bytes: int = Field(default=8 * GiB, gt=0)
    max_request_bytes: int = Field(default=16 * GiB, gt=0)
    max_json_body_bytes: int = Field(default=32 * MiB, gt=0)
    max_metadata_bytes: int = Field(default=256 * 1024, gt=0)
    max_files: int = Field(default=100, gt=0)

    gc_grace_seconds: int = Field(default=3600, ge=0)
    upload_expires_seconds: int = Field(default=86400, gt=0)
    key_cache_seconds: float = Field(default=2.0, ge=0)
    block_interval: int = Field(default=86400, ge=0)
    publish_tiles: bool = False
    asr_model_dir: Path | None = None
    asr_device: str = Field(default="auto", pattern="^(auto|cpu|cuda)$")
    cell_max_input_bytes: int = Field(default=256 * MiB, gt=0)
    ocr_max_pixels: int = Field(default=200_000_000, gt=0)
    asr_max_seconds: float = Field(default=3600.0, gt=0)

    queue_url: str = ""
    queue_name: str = Field(default="tzzr", pattern=r"^[A-Za-z0-9_]{1,64}$")
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    embedded_worker: bool = True
    run_timeout_seconds: float = Field(default=600.0, gt=0)
    run_lease_seconds: float = Field(default=30.0, gt=0)
    run_max_attempts: int = Field(default=3, ge=1, le=20)
    run_retry_seconds: float = Field(default=2.0, ge=0)
    job_lease_seconds: float = Field(default=30.0, gt=0)
    enrich_window: float = Field(default=86400.0, gt=0)

    # THE FACTORY's language model: any OpenAI-compatible Chat Completions server (llama.cpp,
    # Ollama, vLLM, a hosted API). No base URL: the deterministic planner (and Optuna).
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str | None = None
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_max_tokens: int = Field(default=2048, ge=16, le=131072)
    llm_retry_wait_seconds: float = Field(default=30.0, ge=0)

    log_format: str = Field(default="text", pattern="^(text|json)$")
    otel_exporter: str = Field(default="", pattern="^(|otlp|console)$")
    otel_endpoint: str = ""
    metrics_token: str | None = None
    remote_allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ntfy_url: str = ""
    ntfy_token: str | None = None
    alert_interval: float = Field(default=30.0, ge=0)
    alert_window_seconds: float = Field(default=900.0, gt=0)
    alert_failure_rate: float = Field(default=0.2, gt=0, le=1)
    alert_queue_lag_seconds: float = Field(default=600.0, gt=0)
    alert_latency_ms: float = Field(default=60000.0, gt=0)
    alert_disk_free_ratio: float = Field(default=0.05, ge=0, lt=1)
    event_retention_days: int = Field(default=90, ge=0)

    # Rate limits ("N/second|minute|hour|day"; "" turns one off) and bounded waits.
    rate_limit_url: str = ""
    auth_fail_limit: str = Field(default="20/minute", pattern=RATE)
    key_rate_limit: str = Field(default="", pattern=RATE)
    runsync_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=1024)
    runsync_timeout_seconds: float = Field(default=120.0, gt=0)

    @field_validator("home")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("remote_allow_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        # An environment variable may be a JSON list or plain "a:1,b:2".
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    def model_post_init(self, context: Any, /) -> None:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'tzzr.db'}"
        if not self.blob_url:
            self.blob_url = (self.home / "blobs").as_uri()
        if not self.queue_url:
            self.queue_url = f"sqlite:///{self.home / 'queue.db'}"
        if not self.rate_limit_url:
            # Servers that share a Redis queue share their counters there too.
            redis = self.queue_url.startswith(("redis://", "rediss://", "unix://"))
            self.rate_limit_url = self.queue_url if redis else "memory://"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        given = getattr(init_settings, "init_kwargs", {}).get("home")
        home = Path(given).expanduser().resolve() if given else default_home()
        toml_file = home / "tzzr.toml"
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )
